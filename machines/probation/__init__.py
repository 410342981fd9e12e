"""MAP: probation with suspension of the trial (L. 67/2014; DOMAIN.md section 3)."""
