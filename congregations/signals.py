from django.dispatch import Signal

# Sent inside the transaction that ends a membership (removed or left), with
# ``membership``, ``actor`` (who ended it) and ``now``, so apps built on congregations can
# end what hangs on it without congregations knowing about them.
membership_ended = Signal()
