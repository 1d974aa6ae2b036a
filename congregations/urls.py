app_name = "congregations"

# The congregation's home page is crews:congregation: it is mostly about crews.
urlpatterns: list = []
