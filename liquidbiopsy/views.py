"""The lab's upload page: pick a file, watch it being checked and stored."""

from __future__ import annotations

from django.shortcuts import render

from accounts.roles import Role, role_required
from liquidbiopsy.models import Upload


@role_required(Role.LAB)
def upload_page(request):
    recent = list(
        Upload.objects.filter(uploaded_by=request.user)
        .defer("content")
        .order_by("-created_at", "-id")[:20]
    )
    return render(request, "liquidbiopsy/upload.html", {"recent": recent})
