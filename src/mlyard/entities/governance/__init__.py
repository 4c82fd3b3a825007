"""Who may do what and how good it is: keys and roles, validation and check reports, maturity."""
