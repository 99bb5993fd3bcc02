"""Notifications: which emails a committed change deserves, how they read, how they are sent."""
