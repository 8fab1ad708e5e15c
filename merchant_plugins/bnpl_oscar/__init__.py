"""django-oscar 4.x pay-later checkout for the bnpl lender (add ``"bnpl_oscar"`` to ``INSTALLED_APPS``)."""
