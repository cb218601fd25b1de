from django.urls import path

from . import views

urlpatterns = [
    path("healthz", views.health),
    path("api/stock/", views.stock_list),
    path("api/stock/updates/", views.stock_updates),
    path("api/stock/<str:sku>/", views.stock_detail),
]
