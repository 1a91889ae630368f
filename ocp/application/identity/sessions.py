"""Sessions: logging in (throttled), rotating refresh tokens, logging out, and who a bearer
access token speaks for. A session is a family of refresh tokens; each refresh spends one and
issues its successor. What happens when a spent one is presented again is decided here, in
`refresh`, once: the store only says whether (and when) it was spent."""

from __future__ import annotations

from datetime import timedelta

from ocp.application.identity.common import (
    IdentityPolicy,
    TokenPair,
    account_of,
    existing_user,
    require_admin,
    save_user,
)
from ocp.application.ports.common import Clock, IdGenerator
from ocp.application.ports.identity import (
    LoginThrottle,
    PasswordHasher,
    RefreshToken,
    RefreshTokenStore,
    SessionInfo,
    SpendResult,
    TokenIssuer,
    UserRepository,
)
from ocp.domain.errors import (
    AuthenticationFailed,
    NotFound,
    RuleViolated,
    StaleVersion,
    TooManyAttempts,
)
from ocp.domain.users import Email, User

USER_AGENT_CHARS = 256  # what a session keeps of its login's User-Agent


class SessionService:
    def __init__(
        self,
        *,
        users: UserRepository,
        refresh_tokens: RefreshTokenStore,
        hasher: PasswordHasher,
        tokens: TokenIssuer,
        throttle: LoginThrottle,
        clock: Clock,
        ids: IdGenerator,
        policy: IdentityPolicy,
    ) -> None:
        self._users = users
        self._refresh_tokens = refresh_tokens
        self._hasher = hasher
        self._tokens = tokens
        self._throttle = throttle
        self._clock = clock
        self._ids = ids
        self._policy = policy

    async def login(self, email: str, password: str, user_agent: str | None = None) -> TokenPair:
        """Password flow. Unknown email and wrong password answer alike, in about the same time."""
        try:
            key = Email(email).key  # any spelling of the mailbox, as at registration
        except RuleViolated:
            key = email.strip().lower()  # no account has it: fails below, throttled alike
        now = self._clock.now()
        wait = await self._throttle.retry_after(key, now)
        if wait is not None:
            raise TooManyAttempts("too many failed logins for this account; try again later", wait)
        user = await account_of(self._users, email, key)
        if user is None:
            await self._hasher.burn(password)
            ok = False
        else:
            ok = await self._hasher.verify(password, user.password_hash)
        if not ok or user is None or not user.is_active:
            await self._throttle.record_failure(key, now)
            raise AuthenticationFailed("incorrect email or password")
        await self._throttle.clear(key)
        if self._hasher.needs_rehash(user.password_hash):
            user = await self._upgraded(user, password)
        agent = user_agent[:USER_AGENT_CHARS] if user_agent else None
        return await self._start_session(user, family_id=self._ids.new_id(), user_agent=agent)

    async def _upgraded(self, user: User, password: str) -> User:
        """Rehash with today's cost (the password is at hand only now, at a login). A
        concurrent change of the password wins: the upgrade is then simply skipped."""
        new_hash = await self._hasher.hash(password)
        old_hash, now = user.password_hash, self._clock.now()

        def upgrade(u: User) -> None:
            if u.password_hash != old_hash:
                raise StaleVersion("the password changed meanwhile")
            u.change_password_hash(new_hash, now, revoke_access=False)

        try:
            return await save_user(self._users, user, None, upgrade)
        except StaleVersion:
            return user

    async def _start_session(
        self,
        user: User,
        family_id: str,
        successor: tuple[str, str] | None = None,
        user_agent: str | None = None,
    ) -> TokenPair:
        now = self._clock.now()
        token, token_hash = successor or self._tokens.new_secret_token()
        await self._refresh_tokens.add(
            RefreshToken(
                token_hash=token_hash,
                family_id=family_id,
                user_id=user.id,
                issued_at=now,
                expires_at=now + timedelta(seconds=self._policy.refresh_ttl_s),
                user_agent=user_agent,
            )
        )
        return TokenPair(
            access_token=self._tokens.issue_access(user, family_id, now),
            refresh_token=token,
            expires_in=self._tokens.access_ttl_s,
        )

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate: spend this refresh token and issue the next of its family, derived from it.
        The same token again within `refresh_reuse_grace_s` of its spending (two tabs
        refreshing at once) gets that same successor and a fresh access token; any later
        replay revokes the family, so a thief and the victim are both logged out of it."""
        now = self._clock.now()
        outcome, spent = await self._refresh_tokens.spend(
            self._tokens.hash_secret_token(refresh_token), now
        )
        if spent is None or outcome is SpendResult.INVALID:
            raise AuthenticationFailed("the refresh token is invalid, expired or already used")
        successor, successor_hash = self._tokens.successor_token(refresh_token)
        if outcome is SpendResult.ALREADY_SPENT:
            grace = timedelta(seconds=self._policy.refresh_reuse_grace_s)
            if spent.spent_at is None or now - spent.spent_at >= grace:
                await self._refresh_tokens.revoke_family(spent.family_id)
                raise AuthenticationFailed("the refresh token is invalid, expired or already used")
        user = await self._users.get(spent.user_id)
        if user is None or not user.is_active:
            await self._refresh_tokens.revoke_family(spent.family_id)
            raise AuthenticationFailed("the refresh token is invalid, expired or already used")
        if outcome is SpendResult.ALREADY_SPENT:
            return TokenPair(
                access_token=self._tokens.issue_access(user, spent.family_id, now),
                refresh_token=successor,
                expires_in=self._tokens.access_ttl_s,
            )
        return await self._start_session(
            user, family_id=spent.family_id, successor=(successor, successor_hash)
        )

    async def logout(self, actor: User, refresh_token: str) -> None:
        token = await self._refresh_tokens.find(self._tokens.hash_secret_token(refresh_token))
        if token is not None and token.user_id == actor.id:
            await self._refresh_tokens.revoke_family(token.family_id)

    async def sessions(self, actor: User) -> list[SessionInfo]:
        """The actor's live sessions, the most recently used first."""
        return await self._refresh_tokens.sessions_of(actor.id, self._clock.now())

    async def end_session(self, actor: User, session_id: str) -> None:
        """End one of the actor's sessions: its refresh tokens and, at once, its access tokens
        (every request checks that its session lives). Anyone else's: `NotFound`."""
        if not await self._refresh_tokens.is_family_live(session_id, of_user=actor.id):
            raise NotFound("no such session")
        await self._refresh_tokens.revoke_family(session_id)

    async def sessions_of_user(self, actor: User, user_id: str) -> list[SessionInfo]:
        """A user's live sessions, for an admin."""
        require_admin(actor)
        await existing_user(self._users, user_id)
        return await self._refresh_tokens.sessions_of(user_id, self._clock.now())

    async def end_user_session(self, actor: User, user_id: str, session_id: str) -> None:
        """An admin ends one of a user's sessions (a lost device), as the user can."""
        require_admin(actor)
        if not await self._refresh_tokens.is_family_live(session_id, of_user=user_id):
            raise NotFound("no such session of this user")
        await self._refresh_tokens.revoke_family(session_id)

    async def authenticate(self, access_token: str) -> tuple[User, str]:
        """The acting user of a bearer token and its session id; every check is made each time,
        so deactivation, a password reset and logout take effect at once."""
        claims = self._tokens.read_access(access_token, self._clock.now())
        user = await self._users.get(claims.user_id)
        if (
            user is None
            or not user.is_active
            or user.token_generation != claims.token_generation
            # A session of another user's (a token minted with a stolen key, or a bug) is no
            # session of this one's.
            or not await self._refresh_tokens.is_family_live(claims.session_id, of_user=user.id)
        ):
            raise AuthenticationFailed("the access token is no longer valid")
        return user, claims.session_id
