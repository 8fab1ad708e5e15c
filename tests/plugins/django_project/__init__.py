"""A minimal Django project for the django-payments provider tests (a concrete Payment model in ``shop``)."""
