"""What runs by itself: events and subscriptions, schedules, monitors."""
