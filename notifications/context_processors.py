from notifications.selectors import unread_count


def unread(request):
    """The unread badge in the navigation (one COUNT on an indexed column)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notifications": 0}
    return {"unread_notifications": unread_count(user=user)}
