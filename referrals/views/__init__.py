"""HTML pages of the referrals app: the department workbench and the centre's queue and statistics."""
