"""Attendance: the personal join link and who joined."""
