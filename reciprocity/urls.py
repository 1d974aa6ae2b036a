app_name = "reciprocity"

urlpatterns: list = []
