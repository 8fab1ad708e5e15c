"""django-oscar 4.x pay-later checkout for the bnpl lender.

Add ``"bnpl_oscar"`` to ``INSTALLED_APPS``, set ``BNPL_OSCAR`` (see :mod:`bnpl_oscar.conf`), route Oscar's
``checkout:preview`` to :class:`bnpl_oscar.checkout.BnplPaymentDetailsView` (or mix
:class:`bnpl_oscar.checkout.BnplPaymentMixin` into your forked view) and include ``bnpl_oscar.urls``. Import the
views from :mod:`bnpl_oscar.checkout` and :mod:`bnpl_oscar.webhooks` (they need Django to be set up).
"""
