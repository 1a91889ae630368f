"""Identity and access use cases: registration, login, sessions, passwords, profiles, admin."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from ocp.application.paging import DEFAULT_LIMIT, Page, decode_cursor, page_of
from ocp.application.ports.common import Clock, IdGenerator
from ocp.application.ports.identity import (
    LoginThrottle,
    Mailer,
    MailMessage,
    OneTimePurpose,
    OneTimeTokenStore,
    PasswordHasher,
    RefreshToken,
    RefreshTokenStore,
    SpendResult,
    TokenIssuer,
    UserRepository,
)
from ocp.domain.errors import (
    AuthenticationFailed,
    InvalidOneTimeToken,
    NotFound,
    PermissionDenied,
    RuleViolated,
    StaleVersion,
    TooManyAttempts,
)
from ocp.domain.users import Email, Password, Role, User

_UNSET: object = object()


@dataclass(frozen=True, slots=True)
class IdentityPolicy:
    refresh_ttl_s: int = 1_209_600
    # A spent refresh token presented again this soon gets the same successor (two browser
    # tabs refreshing at once); later, it is a replay and ends the session.
    refresh_reuse_grace_s: int = 10
    password_reset_ttl_s: int = 3_600
    email_verification_ttl_s: int = 172_800
    # Where a mail's link points; `{token}` is replaced. Empty: the mail carries the bare token.
    password_reset_url: str = ""
    email_verification_url: str = ""


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


class AvatarFiles(Protocol):
    async def is_usable_avatar(self, user_id: str, file_id: str) -> bool:
        """True when `file_id` is the user's own uploaded file of purpose avatar."""
        ...


class NoAvatarFiles:
    """Until a file store is wired in, no file can serve as an avatar."""

    async def is_usable_avatar(self, user_id: str, file_id: str) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """What PATCH /users/me may change; a field left as `_UNSET` is not touched."""

    full_name: str | None = None
    bio: str | None = None
    avatar_file_id: object = _UNSET  # str to set, None to clear


class IdentityService:
    def __init__(
        self,
        *,
        users: UserRepository,
        refresh_tokens: RefreshTokenStore,
        one_time_tokens: OneTimeTokenStore,
        hasher: PasswordHasher,
        tokens: TokenIssuer,
        throttle: LoginThrottle,
        mailer: Mailer,
        clock: Clock,
        ids: IdGenerator,
        policy: IdentityPolicy,
        avatar_files: AvatarFiles | None = None,
    ) -> None:
        self._users = users
        self._refresh_tokens = refresh_tokens
        self._one_time = one_time_tokens
        self._hasher = hasher
        self._tokens = tokens
        self._throttle = throttle
        self._mailer = mailer
        self._clock = clock
        self._ids = ids
        self._policy = policy
        self._avatar_files = avatar_files or NoAvatarFiles()

    # --- registration and sessions -------------------------------------------------------

    async def register(
        self, email: str, password: str, full_name: str, role: Role = Role.STUDENT
    ) -> User:
        address, secret = Email(email), Password(password)
        now = self._clock.now()
        user = User.register(
            id=self._ids.new_id(),
            email=address,
            name=full_name,
            password_hash=await self._hasher.hash(secret.value),
            now=now,
            role=role,
        )
        await self._users.add(user)
        return user

    async def login(self, email: str, password: str) -> TokenPair:
        """Password flow. Unknown email and wrong password answer alike, in about the same time."""
        try:
            key = Email(email).key  # any spelling of the mailbox, as at registration
        except RuleViolated:
            key = email.strip().lower()  # no account has it: fails below, throttled alike
        now = self._clock.now()
        wait = await self._throttle.retry_after(key, now)
        if wait is not None:
            raise TooManyAttempts("too many failed logins for this account; try again later", wait)
        user = await self._account_of(email, key)
        if user is None:
            await self._hasher.burn(password)
            ok = False
        else:
            ok = await self._hasher.verify(password, user.password_hash)
        if not ok or user is None or not user.is_active:
            await self._throttle.record_failure(key, now)
            raise AuthenticationFailed("incorrect email or password")
        await self._throttle.clear(key)
        return await self._start_session(user, family_id=self._ids.new_id())

    async def _account_of(self, email: str, key: str) -> User | None:
        """The account of an address. Accounts made before the RFC 5321/6531 rules are keyed
        by the address as typed, only lower-cased (`X@Example.com.`): that exact spelling is
        looked up first, so such an account keeps logging in as it always did and is never
        shadowed by a newer account of the same mailbox; then the mailbox's `key`."""
        as_typed = email.strip().lower()
        if as_typed != key:
            user = await self._users.get_by_email(as_typed)
            if user is not None:
                return user
        return await self._users.get_by_email(key)

    async def _start_session(
        self, user: User, family_id: str, successor: tuple[str, str] | None = None
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

    # --- passwords and email verification ------------------------------------------------

    async def change_password(
        self, actor: User, session_id: str, current_password: str, new_password: str
    ) -> None:
        secret = Password(new_password)
        if not await self._hasher.verify(current_password, actor.password_hash):
            raise RuleViolated("the current password is not correct", field="current_password")
        password_hash = await self._hasher.hash(secret.value)
        now = self._clock.now()
        await self._save(
            actor,
            None,
            lambda user: user.change_password_hash(password_hash, now, revoke_access=False),
        )
        await self._refresh_tokens.revoke_user(actor.id, except_family=session_id)

    async def request_password_reset(self, email: str) -> None:
        """Always quiet: whether the address is known is never revealed."""
        try:
            key = Email(email).key
        except RuleViolated:
            return
        user = await self._account_of(email, key)
        if user is None or not user.is_active:
            return
        await self._mail_one_time(
            OneTimePurpose.PASSWORD_RESET,
            user,
            subject="Reset your OCP password",
            intro="Someone asked to reset the password of your OCP account.",
            url_template=self._policy.password_reset_url,
            ttl_s=self._policy.password_reset_ttl_s,
        )

    async def confirm_password_reset(self, token: str, new_password: str) -> None:
        secret = Password(new_password)
        user = await self._consume(OneTimePurpose.PASSWORD_RESET, token)
        password_hash = await self._hasher.hash(secret.value)
        now = self._clock.now()
        # The token is spent: a profile edit meanwhile must not make the reset fail.
        await self._save(
            user, None, lambda u: u.change_password_hash(password_hash, now, revoke_access=True)
        )
        await self._refresh_tokens.revoke_user(user.id)
        await self._throttle.clear(user.email.key)

    async def request_email_verification(self, actor: User) -> None:
        if actor.email_verified:
            return
        await self._mail_one_time(
            OneTimePurpose.EMAIL_VERIFICATION,
            actor,
            subject="Confirm your OCP email address",
            intro="Please confirm that this address belongs to your OCP account.",
            url_template=self._policy.email_verification_url,
            ttl_s=self._policy.email_verification_ttl_s,
        )

    async def confirm_email_verification(self, token: str) -> None:
        user = await self._consume(OneTimePurpose.EMAIL_VERIFICATION, token)
        now = self._clock.now()
        await self._save(user, None, lambda u: u.verify_email(now))

    async def _mail_one_time(
        self,
        purpose: OneTimePurpose,
        user: User,
        *,
        subject: str,
        intro: str,
        url_template: str,
        ttl_s: int,
    ) -> None:
        """Issue a single-use token and mail it. One outstanding token per purpose: asking
        again invalidates the earlier mail's link."""
        try:
            to = str(Email(user.email.value))
        except RuleViolated:
            # An address stored before today's rules (a control or hidden character) is never
            # put in a mail header.
            return
        await self._one_time.discard_user(purpose, user.id)
        token, token_hash = self._tokens.new_secret_token()
        expires_at = self._clock.now() + timedelta(seconds=ttl_s)
        await self._one_time.add(purpose, token_hash, user.id, expires_at)
        await self._mailer.send(
            MailMessage(
                to=to,
                subject=subject,
                text=_mail_text(intro, url_template, token, ttl_s),
            )
        )

    async def _consume(self, purpose: OneTimePurpose, token: str) -> User:
        user_id = await self._one_time.consume(
            purpose, self._tokens.hash_secret_token(token), self._clock.now()
        )
        user = await self._users.get(user_id) if user_id else None
        if user is None:
            raise InvalidOneTimeToken("the token is unknown, already used or expired")
        return user

    # --- profiles ------------------------------------------------------------------------

    async def update_profile(
        self, actor: User, changes: ProfileChanges, if_match: int | None = None
    ) -> User:
        _check_version(actor, if_match)
        avatar = changes.avatar_file_id
        if isinstance(avatar, str) and not await self._avatar_files.is_usable_avatar(
            actor.id, avatar
        ):
            raise RuleViolated("is not one of your uploaded avatar images", field="avatar_file_id")
        now = self._clock.now()
        return await self._save(
            actor,
            if_match,
            lambda user: user.edit_profile(
                now,
                name=changes.full_name,
                biography=changes.bio,
                avatar_file_id=avatar if isinstance(avatar, str) else None,
                clear_avatar=avatar is None,
            ),
        )

    # --- administration ------------------------------------------------------------------

    async def list_users(
        self,
        actor: User,
        *,
        role: Role | None = None,
        query: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[User]:
        _require_admin(actor)
        after = decode_cursor(cursor, (str,))
        rows = await self._users.list_after(
            role=role,
            query=query.strip().lower() if query and query.strip() else None,
            after_id=str(after[0]) if after else None,
            limit=limit + 1,
        )
        return page_of(rows, limit, lambda user: (user.id,))

    async def get_user(self, actor: User, user_id: str) -> User:
        _require_admin(actor)
        return await self._existing(user_id)

    async def administer_user(
        self,
        actor: User,
        user_id: str,
        *,
        role: Role | None = None,
        is_active: bool | None = None,
        if_match: int | None = None,
    ) -> User:
        _require_admin(actor)
        user = await self._existing(user_id)
        _check_version(user, if_match)
        now = self._clock.now()
        user = await self._save(
            user, if_match, lambda u: u.administer(actor, now, role=role, is_active=is_active)
        )
        if is_active is False:
            await self._refresh_tokens.revoke_user(user.id)
        return user

    async def ensure_admin(
        self, email: str, password: str, full_name: str = "Administrator"
    ) -> bool:
        """Create an admin when none exists yet (bootstrap); True when one was made."""
        if await self._users.has_admin():
            return False
        await self.register(email, password, full_name, role=Role.ADMIN)
        return True

    async def _save(self, user: User, if_match: int | None, change: Callable[[User], None]) -> User:
        """Apply `change` and save it if the stored version is still the one changed. Without
        If-Match the write is unconditional: after a concurrent change it is applied again to
        the latest version instead of failing with 412."""
        for _ in range(_UNCONDITIONAL_ATTEMPTS):
            version = user.version
            change(user)
            try:
                await self._users.update(user, version)
                return user
            except StaleVersion:
                if if_match is not None:
                    raise
                user = await self._existing(user.id)
        raise StaleVersion("the user keeps changing; read it again")

    async def _existing(self, user_id: str) -> User:
        user = await self._users.get(user_id)
        if user is None:
            raise NotFound("no such user")
        return user


_UNCONDITIONAL_ATTEMPTS = 5


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied("only an admin may do this")


def _check_version(entity: User, if_match: int | None) -> None:
    if if_match is not None and if_match != entity.version:
        raise StaleVersion("the user was changed since you read it; read it again")


def _mail_text(intro: str, url_template: str, token: str, ttl_s: int) -> str:
    where = (
        f"Open this link:\n\n  {url_template.replace('{token}', token)}\n"
        if url_template
        else f"Your token:\n\n  {token}\n"
    )
    hours = max(1, ttl_s // 3600)
    return (
        f"{intro}\n\n{where}\nIt works once and expires in {hours} hour(s). "
        "If this was not you, ignore this message.\n"
    )
