from django.urls import path

from . import views

urlpatterns = [
    path("staff/dashboard/", views.dashboard, name="dashboard"),
    path("staff/dashboard/<slug:slug>/", views.dashboard, name="dashboard-page"),
    path("staff/dashboard/<slug:slug>/<slug:figure>.xlsx", views.dashboard_export, name="dashboard-export"),
]
