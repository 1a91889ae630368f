"""Identity and access use cases: sessions (login, refresh, logout, authentication), passwords
and email verification, accounts and profiles, administration."""

from ocp.application.identity.accounts import AccountExport, AccountService
from ocp.application.identity.admin import AdminService
from ocp.application.identity.common import IdentityPolicy, TokenPair
from ocp.application.identity.passwords import PasswordService
from ocp.application.identity.profiles import ProfileService
from ocp.application.identity.sessions import SessionService

__all__ = [
    "AccountExport",
    "AccountService",
    "AdminService",
    "IdentityPolicy",
    "PasswordService",
    "ProfileService",
    "SessionService",
    "TokenPair",
]
