"""Authentication events into the audit trail, and the log-in time for the absolute lifetime.

These receivers only record what happened (django.contrib.auth and django-axes send the
signals); no domain logic hangs on them.
"""

from __future__ import annotations

import time

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts import services
from accounts.middleware import LOGIN_AT_KEY


@receiver(user_logged_in, dispatch_uid="accounts.login")
def _logged_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[LOGIN_AT_KEY] = int(time.time())
    services.login_record(request=request, user=user)


@receiver(user_logged_out, dispatch_uid="accounts.logout")
def _logged_out(sender, request, user, **kwargs):
    services.logout_record(request=request, user=user)


@receiver(user_login_failed, dispatch_uid="accounts.login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    services.login_failed_record(request=request, credentials=credentials)


@receiver(user_locked_out, dispatch_uid="accounts.locked_out")
def _locked_out(sender, request=None, username=None, **kwargs):
    services.lockout_record(request=request, username=username)
