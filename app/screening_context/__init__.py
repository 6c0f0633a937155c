"""What the pure `screening` package is given from the database and Redis: admin lists, DNS cache, activity."""
