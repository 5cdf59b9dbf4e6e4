"""Activity definitions: the base model every kind shares, schedules and their ticks, the loader."""
