"""The resident's list, its card and receipt-check pages, and the staff's card and assisted-access actions."""

from django.urls import URLPattern, URLResolver, path

from happiness_list.views import cards, resident

urlpatterns: list[URLPattern | URLResolver] = [
    path("happiness/<str:token>/", resident.happiness_page, name="happiness"),
    path("happiness/<str:token>/statement.pdf", resident.happiness_statement, name="happiness-statement"),
    path("happiness/<str:token>/receipt/", resident.receipt_question, name="happiness-receipt"),
    path("staff/households/<int:household_id>/happiness-card/", cards.household_card, name="happiness-card"),
    path(
        "staff/households/<int:household_id>/happiness-open/",
        cards.assisted_open,
        name="happiness-assisted-open",
    ),
    path("staff/happiness/cards/", cards.card_batches, name="happiness-card-batches"),
    path(
        "staff/happiness/cards/village/<int:village_id>/", cards.village_cards, name="happiness-village-cards"
    ),
]
