"""A test Oscar shop (Oscar's own test-settings pattern) with the bnpl pay-later checkout."""
