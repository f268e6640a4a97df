"""Public HTML pages of intake (design.md's public contract) and the staff pages next to them."""



urlpatterns: list = []  # type: ignore[type-arg]
