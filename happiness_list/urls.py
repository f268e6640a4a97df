"""The household's happiness list (幸福清单): the resident's pages."""

from django.urls import URLPattern, URLResolver, include, path

from happiness_list.views import evaluation, ratings_resident, ratings_staff

urlpatterns: list[URLPattern | URLResolver] = [
    # The resident's list, cards, receipt checks, assisted access (happiness_list.urls_list).
    path("", include("happiness_list.urls_list")),
    # The cadre's worklist of omission and duplicate flags (happiness_list.urls_staff).
    path("", include("happiness_list.urls_staff")),
    # The resident's rating, from the list's rating panel (the household's verified session only).
    path("happiness/<str:token>/rate/", ratings_resident.rate, name="happiness-rate"),
    # Ratings and evaluation (staff)
    path("staff/ratings/", ratings_staff.ratings_centre, name="ratings-centre"),
    path("staff/ratings/tasks/<int:task_id>/", ratings_staff.rating_task_detail, name="rating-task"),
    path(
        "staff/ratings/tasks/<int:task_id>/contact/",
        ratings_staff.rating_task_contact,
        name="rating-task-contact",
    ),
    path(
        "staff/ratings/tasks/<int:task_id>/answer/",
        ratings_staff.rating_task_answer,
        name="rating-task-answer",
    ),
    path("staff/ratings/<int:rating_id>/dispute/", ratings_staff.rating_dispute, name="rating-dispute"),
    path(
        "staff/ratings/disputes/<int:dispute_id>/review/",
        ratings_staff.rating_dispute_decide,
        name="rating-dispute-review",
    ),
    path("staff/evaluation/", evaluation.evaluation_home, name="evaluation-home"),
    path("staff/evaluation/<str:kind>/<int:pk>/", evaluation.evaluation_detail, name="evaluation-detail"),
]
