from django.utils.functional import SimpleLazyObject

from koers.core.selectors import notification_unread_count


def notifications(request):
    """The number of unread notifications for the bell in the navigation, counted when shown."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: notification_unread_count(user=user))}
