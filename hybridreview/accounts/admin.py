from django.contrib import admin

from .models import Membership, Team


class MembershipInline(admin.TabularInline[Membership, Team]):
    model = Membership
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ("slug", "name", "created_at")
    inlines = [MembershipInline]
