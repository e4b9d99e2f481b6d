from accounts.roles import Role, user_roles


def roles(request):
    """Expose the user's roles to templates for role-aware navigation."""
    names = user_roles(getattr(request, "user", None))
    return {
        "user_roles": names,
        "is_nurse": Role.NURSE in names,
        "is_oncologist": Role.ONCOLOGIST in names,
        "is_lab": Role.LAB in names,
        "is_admin_role": Role.ADMIN in names,
        "is_clinician": bool(names & {Role.NURSE, Role.ONCOLOGIST, Role.ADMIN}),
    }
