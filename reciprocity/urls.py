from django.urls import path

from .views import conflicts, disputes, exports, rounds, scores, ventures, waiting, welcome

app_name = "reciprocity"

urlpatterns = [
    path("waiting/", waiting.waiting, name="waiting"),
    path("welcome/", welcome.welcome, name="welcome"),
    path("meetings/<int:meeting_pk>/rounds/", rounds.meeting_rounds, name="meeting_rounds"),
    path(
        "meetings/<int:meeting_pk>/rounds/listening/",
        rounds.record_listening_round,
        name="record_listening_round",
    ),
    path(
        "meetings/<int:meeting_pk>/rounds/money/",
        rounds.record_money_round,
        name="record_money_round",
    ),
    path("conflicts/", conflicts.my_conflicts, name="my_conflicts"),
    path("crews/<int:crew_pk>/conflicts/new/", conflicts.open_conflict, name="open_conflict"),
    path("conflicts/<int:pk>/", conflicts.conflict, name="conflict"),
    path("conflicts/<int:pk>/confirm/", conflicts.confirm_resolution, name="confirm_resolution"),
    path(
        "conflicts/<int:pk>/no-resolution/",
        conflicts.record_no_resolution,
        name="record_no_resolution",
    ),
    path("ventures/", ventures.ventures, name="ventures"),
    path("ventures/new/", ventures.register_venture, name="register_venture"),
    path("ventures/<int:pk>/", ventures.venture, name="venture"),
    path("ventures/<int:pk>/confirm/", ventures.confirm_co_ownership, name="confirm_co_ownership"),
    path("crews/<int:crew_pk>/scores/", scores.crew_scores, name="crew_scores"),
    path("crews/<int:crew_pk>/entries/", scores.crew_entries, name="crew_entries"),
    path("crews/<int:crew_pk>/entries.csv", exports.crew_entries_csv, name="crew_entries_csv"),
    path("crews/<int:crew_pk>/entries.xlsx", exports.crew_entries_xlsx, name="crew_entries_xlsx"),
    path("entries/<int:pk>/", scores.entry, name="entry"),
    path("entries/<int:pk>/reverse/", scores.reverse_entry, name="reverse_entry"),
    path("entries/<int:pk>/dispute/", scores.dispute_deduction, name="dispute_deduction"),
    path("disputes/<int:pk>/", disputes.dispute, name="dispute"),
    path("disputes/<int:pk>/confirm/", disputes.confirm_dispute, name="confirm_dispute"),
    path("me/", scores.me, name="me"),
    path("me/entries/", scores.my_entries, name="my_entries"),
    path("me/entries.csv", exports.my_entries_csv, name="my_entries_csv"),
    path("me/entries.xlsx", exports.my_entries_xlsx, name="my_entries_xlsx"),
]
