"""Privacy: erasing a person, purging old rejected submissions, truncating IP addresses."""
