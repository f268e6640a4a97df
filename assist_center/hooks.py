"""Start-up registered callbacks: how a lower layer triggers work of an app above it.

design.md, "Layering": a lower layer never imports an upper one; where it must trigger something
above it, "the lower layer's service calls a function ... registered at start-up", never a Django
signal hiding a business rule. An upper app registers its handler in its AppConfig.ready(); the
lower service calls `call(name, **kwargs)` inside its own transaction, so the handler's writes
commit or roll back with the change that caused them.

Handlers run in registration order; an exception propagates to the caller (and rolls its
transaction back): a decision that cannot open its case must not be half-recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[..., Any]

# The names callers use, listed so a typo fails loudly instead of calling nobody.
KNOWN_HOOKS: frozenset[str] = frozenset(
    {
        # eligibility.services.decisions.application_decide_complete, after the move to "decided":
        # kwargs decided (eligibility.services.decisions.DecidedApplication: the locked
        # application, its approved items, the report's results), actor (user). referrals opens
        # the case.
        "application_decided",
        # applications.progress.application_progress, for the residents' pages (issue 16): kwargs
        # application; referrals answers with its case's state (applications.progress.CaseState)
        # or None when there is no case.
        "application_case_state",
        # applications' admin page of one application (issue 16): kwargs application, user;
        # eligibility and referrals answer with [(label, url)] of the pages the user may open
        # (its verification report, its case, its referrals).
        "application_staff_links",
        # applications.apis.OtpSendApi for a purpose bound to a token (issue 12: "happiness", the
        # household's list): kwargs purpose, token, phone, ip; the app owning the purpose sends
        # the code (only to a phone on record for the token's household) and answers True.
        "otp_token_purpose_send",
        # referrals' closure and refusal SMS (issue 12): kwargs household_id; happiness_list
        # answers with the URL of the household's list (its 幸福签 card token, issued if none).
        "household_list_url",
        # A notice for a township's staff that lower layers raise (benefits' grace-end reminder,
        # issue 13): kwargs township_id, template (an SMS template's code), params, idempotency_key;
        # referrals sends it to the township's 浙政钉 / DingTalk channels, if the centre set any.
        "township_notice",
    }
)

_HANDLERS: dict[str, list[Handler]] = {}


def register(name: str, fn: Handler) -> None:
    """Register `fn` for hook `name`; registering the same function twice keeps one."""
    if name not in KNOWN_HOOKS:
        raise ValueError(f"Unknown hook {name!r}; add it to assist_center.hooks.KNOWN_HOOKS.")
    handlers = _HANDLERS.setdefault(name, [])
    if fn not in handlers:
        handlers.append(fn)


def unregister(name: str, fn: Handler) -> None:
    handlers = _HANDLERS.get(name, [])
    if fn in handlers:
        handlers.remove(fn)


def call(name: str, **kwargs: Any) -> list[Any]:
    """Call every handler of `name` with keyword arguments; return their results in order."""
    if name not in KNOWN_HOOKS:
        raise ValueError(f"Unknown hook {name!r}.")
    return [fn(**kwargs) for fn in list(_HANDLERS.get(name, ()))]


def handlers(name: str) -> tuple[Handler, ...]:
    return tuple(_HANDLERS.get(name, ()))
