"""The test shop: one concrete django-payments ``Payment`` model."""
