from django.utils.functional import SimpleLazyObject

from notifications.selectors import unread_count


def unread(request):
    """The unread badge in the navigation (one COUNT on an indexed column).

    Lazy: counted only if the template reads it, and not at all when the view's own context
    gives `unread_notifications` (the worklist reads it in its one statement).
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notifications": 0}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user=user))}
