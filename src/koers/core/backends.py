from django.contrib.auth.backends import ModelBackend

from koers.core.models import User


class TeamAwareBackend(ModelBackend):
    """Load the logged-in user with their team: every page shows it."""

    def get_user(self, user_id):
        user = User.objects.select_related("team").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
