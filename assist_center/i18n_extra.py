"""Messages of third-party apps that ship no Chinese catalogue, so that makemessages collects them.

Nothing imports this module: it exists only for makemessages. The translations live in
locale/zh_Hans like our own and take precedence because LOCALE_PATHS is searched first.
"""

from django.utils.translation import gettext_noop

THIRD_PARTY_MESSAGES = [
    # django-axes (admin section and models)
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
]
