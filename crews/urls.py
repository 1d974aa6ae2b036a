app_name = "crews"

urlpatterns: list = []
