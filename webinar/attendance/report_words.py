"""The words of Teams' and Zoom's reports, in English and Dutch: column headers, labels, roles, actions.

Compared in lower case with single spaces (see report_files._header_key). To
read a report in another wording, add its words here.
"""

from __future__ import annotations

#: header text (lower case, single spaces) -> what the column holds
HEADERS = {
    "name (original name)": "name",
    "user name (original name)": "name",
    "name": "name",
    "full name": "name",
    "user email": "email",
    "email": "email",
    "e-mail": "email",
    "participant id (upn)": "upn",
    "join time": "joined",
    "first join": "joined",
    "leave time": "left",
    "last leave": "left",
    "duration (minutes)": "minutes",
    "total duration (minutes)": "minutes",
    "in-meeting duration": "duration",
    "duration": "duration",
    "user action": "action",
    "timestamp": "timestamp",
    "role": "role",
    # Teams in Dutch
    "naam": "name",
    "volledige naam": "name",
    "e-mailadres": "email",
    "deelnemer-id (upn)": "upn",
    "eerste deelname": "joined",
    "deelnametijd": "joined",
    "laatste vertrek": "left",
    "vertrektijd": "left",
    "duur in vergadering": "duration",
    "duur": "duration",
    "gebruikersactie": "action",
    "tijdstempel": "timestamp",
    "rol": "role",
    # Zoom in Dutch
    "naam (oorspronkelijke naam)": "name",
    "naam (originele naam)": "name",
    "naam gebruiker (oorspronkelijke naam)": "name",
    "e-mailadres gebruiker": "email",
    "e-mailadres van gebruiker": "email",
    "e-mail gebruiker": "email",
    "tijd van deelname": "joined",
    "tijd van vertrek": "left",
    "duur (minuten)": "minutes",
    "totale duur (minuten)": "minutes",
}
#: labels of the meeting's start above the participants (a label cell with the value beside or below it)
START_LABELS = {
    "start time", "meeting start time", "begintijd", "begintijd van vergadering", "starttijd",
}
#: labels of the host's address in the meeting's row above Zoom's participants
HOST_LABELS = {"user email", "e-mailadres gebruiker", "e-mailadres van gebruiker", "e-mail gebruiker"}
#: a participant's role that marks the meeting's organiser, in lower case
ORGANISER_ROLES = {"organizer", "organiser", "organisator", "co-organizer", "co-organiser", "medeorganisator", "host"}
#: what Teams' old list writes for a join or a leave, in lower case
JOINED_WORDS = ("joined", "deelgenomen", "neemt deel")
LEFT_WORDS = ("left", "vertrokken", "verlaten")
#: (format, the columns that make a header row that format's), tried in order
FORMATS = [
    ("Teams", {"name", "joined", "duration"}),
    ("Zoom", {"name", "email", "minutes"}),
    ("Teams (oude lijst)", {"name", "action", "timestamp"}),
]
