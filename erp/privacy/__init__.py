"""Personal-information protection (PIPL): classification, consent, requests from people, incidents."""
