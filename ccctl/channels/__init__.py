"""Written channels to and from patients: SMS (Kannel), e-mail (SMTP/IMAP), fax, web uploads,
and the one inbox (inbox.py) where every received message is filed under its patient."""
