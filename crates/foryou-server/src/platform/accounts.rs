//! Accounts and sessions: sign-up, bulk import, log-in, bearer tokens, roles.

use super::*;

impl Platform {
    /// Checks the form of sign-up fields without hashing anything, so that a mistyped form costs
    /// neither a hash nor a place in the sign-up rate limit.
    pub fn check_sign_up_fields(
        &self,
        handle: &str,
        password: &str,
        birthdate: &str,
        country: &str,
    ) -> Result<(), PlatformError> {
        validate_handle(handle)?;
        validate_password(password)?;
        parse_date(birthdate)?;
        self.config.regions.home_of(country)?;
        Ok(())
    }

    /// Signs a new user up. The country fixes the home region; the handle is unique across regions.
    pub fn create_account(
        &self,
        handle: &str,
        password: &str,
        birthdate: &str,
        country: &str,
        role: Role,
    ) -> Result<Account, PlatformError> {
        self.check_sign_up_fields(handle, password, birthdate, country)?;
        let birth = parse_date(birthdate)?;
        let today = Date::from_unix_ms(now_ms());
        let age = age_on(birth, today);
        if birth > today {
            return Err(PlatformError::unprocessable(
                "invalid",
                "birthdate: is in the future; send your real date of birth",
            ));
        }
        // The age gate: the same refusal for a blocked handle and for anyone too young, naming
        // no threshold; a refusal blocks the handle for a day, kept as a keyed hash only.
        let now = now_ms();
        if self.age_gate.blocked(handle, now) {
            return Err(agegate::refusal());
        }
        if age < self.config.min_age {
            self.age_gate.block(handle, now)?;
            return Err(agegate::refusal());
        }
        self.insert_account(handle, password, birthdate, country, role, None)
    }

    /// Stores a new account (and, for a minor a parent links or makes, its family link first),
    /// after the checks every account passes.
    pub(super) fn insert_account(
        &self,
        handle: &str,
        password: &str,
        birthdate: &str,
        country: &str,
        role: Role,
        family: Option<foryou_store::Family>,
    ) -> Result<Account, PlatformError> {
        self.check_sign_up_fields(handle, password, birthdate, country)?;
        let birth = parse_date(birthdate)?;
        let today = Date::from_unix_ms(now_ms());
        let age = age_on(birth, today);
        if birth > today {
            return Err(PlatformError::unprocessable(
                "invalid",
                "birthdate: is in the future; send your real date of birth",
            ));
        }
        if age > 130 {
            return Err(PlatformError::unprocessable(
                "invalid",
                "birthdate: is more than 130 years ago; send your real date of birth",
            ));
        }
        let region = self.config.regions.home_of(country)?;
        let pw = password.to_string();
        let password_hash = self
            .hashers
            .run(move || auth::hash_password(&pw))
            .ok_or_else(|| PlatformError::internal("the hashing threads are gone"))?
            .map_err(PlatformError::internal)?;
        let _guard = self.signup.lock().map_err(lock_err)?;
        if self.cells.serves_some() {
            // Handles are one namespace across regions: what other regions' nodes took up to
            // now is on the public feed.
            self.catch_up_public()?;
        }
        let lower = handle.to_ascii_lowercase();
        if self
            .world
            .read()
            .map_err(lock_err)?
            .handles
            .contains_key(&lower)
        {
            return Err(foryou_store::StoreError::HandleTaken {
                handle: handle.to_string(),
            }
            .into());
        }
        let id = UserId(new_id());
        if role != Role::User {
            // A staff account made by the operator's command: the grant is logged first.
            self.transparency.append(foryou_tlog::entry::Entry::Role {
                v: foryou_tlog::entry::VERSION,
                ts_ms: now_ms(),
                subject: self.transparency.pseudonym(id),
                role: format!("{role:?}").to_lowercase(),
                by: "operator".into(),
            })?;
        }
        let account = Account {
            id,
            handle: handle.to_string(),
            password_hash,
            birthdate: birth,
            country: country.trim().to_ascii_uppercase(),
            region: region.clone(),
            role,
            created_ms: now_ms(),
            locked: false,
        };
        let store = &self
            .cells
            .credentials(&region)?
            .ok_or_else(|| PlatformError::internal(format!("no cell for region {region}")))?
            .store;
        // The link first: an account a parent makes never exists without it.
        if let Some(f) = &family {
            store.set_family(id, Some(f))?;
        }
        store.insert_account(&account)?;
        {
            let mut w = self.world.write().map_err(lock_err)?;
            w.add_account(account.clone());
            if let Some(u) = w.users.get_mut(&id) {
                u.family = family;
            }
        }
        self.publish_person(id);
        Ok(account)
    }

    /// Bulk-loads a catalog: accounts (their password hashes as given; `!` locks an account),
    /// sounds, and videos with their media and poster bytes. Every record goes to its own region.
    pub fn import(
        &self,
        accounts: Vec<Account>,
        sounds: Vec<Sound>,
        videos: Vec<(Video, Vec<u8>, Vec<u8>)>,
    ) -> Result<(), PlatformError> {
        {
            let w = self.world.read().map_err(lock_err)?;
            if let Some(a) = accounts
                .iter()
                .find(|a| w.handles.contains_key(&a.handle.to_ascii_lowercase()))
            {
                return Err(foryou_store::StoreError::HandleTaken {
                    handle: a.handle.clone(),
                }
                .into());
            }
        }
        for (v, media, poster) in &videos {
            let m = &self.cells.upkeep_of(&v.region)?.media;
            m.put(&v.media_key, media)?;
            m.put(&v.poster_key, poster)?;
        }
        for (r, cell) in self.cells.upkeep() {
            let store = &cell.store;
            let a: Vec<Account> = accounts
                .iter()
                .filter(|x| &x.region == r)
                .cloned()
                .collect();
            let s: Vec<Sound> = sounds.iter().filter(|x| &x.region == r).cloned().collect();
            let v: Vec<Video> = videos
                .iter()
                .map(|x| &x.0)
                .filter(|x| &x.region == r)
                .cloned()
                .collect();
            store.import(&a, &s, &v)?;
        }
        {
            let mut w = self.world.write().map_err(lock_err)?;
            for a in accounts {
                w.add_account(a);
            }
            for s in sounds {
                w.sounds.insert(s.id, s);
            }
        }
        let mut sorted: Vec<Video> = videos.into_iter().map(|x| x.0).collect();
        sorted.sort_by_key(|v| (v.created_ms, v.id));
        self.index_videos(sorted, Vec::new())?;
        // What the import made public, for the other regions' nodes.
        self.publish_all()
    }

    /// Records events on behalf of a user, as the demo's simulated users do.
    pub fn record_events_as(
        &self,
        user: UserId,
        inputs: &[EventInput],
    ) -> Result<Vec<EventResult>, PlatformError> {
        self.record_events(&self.act_as(user)?, inputs)
    }

    /// A caller acting as `user` without a session: for code running inside the server's own
    /// process (the demo's simulated viewers, the operator's commands, tests). No request reaches
    /// it; requests get a `Caller` only from `authenticate`.
    pub fn act_as(&self, user: UserId) -> Result<Caller, PlatformError> {
        let w = self.world.read().map_err(lock_err)?;
        let u = w
            .users
            .get(&user)
            .ok_or_else(|| PlatformError::not_found(format!("no user with id {user}")))?;
        Ok(Caller {
            user,
            handle: u.handle.clone(),
            region: u.region.clone(),
            role: u.role,
            token_hash: [0; 32],
            _sealed: Sealed,
        })
    }

    /// Whether the platform holds no account yet.
    pub fn is_empty(&self) -> Result<bool, PlatformError> {
        Ok(self.world.read().map_err(lock_err)?.users.is_empty())
    }

    /// Changes a user's role: the operator's own command, run on the server's machine. The
    /// grant is in the transparency log (by `operator`) before it takes effect.
    pub fn set_role(&self, user: UserId, role: Role) -> Result<(), PlatformError> {
        let region = self.user_region(user)?;
        self.transparency.append(foryou_tlog::entry::Entry::Role {
            v: foryou_tlog::entry::VERSION,
            ts_ms: now_ms(),
            subject: self.transparency.pseudonym(user),
            role: format!("{role:?}").to_lowercase(),
            by: "operator".into(),
        })?;
        self.set_role_in(self.cells.upkeep_of(&region)?, user, role)
    }

    /// Changes a user's role in their region's `cell`.
    pub(super) fn set_role_in(
        &self,
        cell: &cells::Cell,
        user: UserId,
        role: Role,
    ) -> Result<(), PlatformError> {
        if !cell.store.set_role(user, role)? {
            return Err(PlatformError::not_found(format!("no user with id {user}")));
        }
        if let Some(u) = self.world.write().map_err(lock_err)?.users.get_mut(&user) {
            u.role = role;
        }
        self.publish_person(user);
        Ok(())
    }

    pub(super) fn user_region(&self, user: UserId) -> Result<Region, PlatformError> {
        let w = self.world.read().map_err(lock_err)?;
        w.users
            .get(&user)
            .map(|u| u.region.clone())
            .ok_or_else(|| PlatformError::not_found(format!("no user with id {user}")))
    }

    /// Resolves a handle (any case) to a user id.
    pub fn user_by_handle(&self, handle: &str) -> Result<Option<UserId>, PlatformError> {
        Ok(self
            .world
            .read()
            .map_err(lock_err)?
            .handles
            .get(&handle.to_ascii_lowercase())
            .copied())
    }

    /// Checks a password and opens a session; the same error for unknown handles and wrong passwords.
    pub fn login(&self, handle: &str, password: &str) -> Result<(String, UserId), PlatformError> {
        let denied = || PlatformError::unauthorized("wrong handle or password");
        let mut id = self.user_by_handle(handle)?;
        if id.is_none() && self.cells.serves_some() {
            // A person another region's node signed up a moment ago: their profile was on the
            // public feed before their sign-up was answered, so reading on finds it.
            self.catch_up_public()?;
            id = self.user_by_handle(handle)?;
        }
        let account = match id {
            Some(id) => match self.cells.credentials(&self.user_region(id)?)? {
                Some(cell) => cell.store.account(id)?,
                None => None,
            },
            None => None,
        };
        let Some(account) = account else {
            let pw = password.to_string();
            let _ = self
                .hashers
                .run(move || auth::verify_password(&pw, auth::dummy_hash()));
            return Err(denied());
        };
        let (pw, phc) = (password.to_string(), account.password_hash.clone());
        if self.hashers.run(move || auth::verify_password(&pw, &phc)) != Some(true) {
            return Err(denied());
        }
        let token = auth::new_token(&account.region);
        let now = now_ms();
        let rec = TokenRecord {
            user: account.id,
            region: account.region.clone(),
            created_ms: now,
            expires_ms: now + self.config.token_ttl_ms,
        };
        self.cells
            .credentials(&account.region)?
            .ok_or_else(|| PlatformError::internal("the account's region is not served"))?
            .store
            .insert_token(&auth::token_hash(&token), &rec)?;
        Ok((token, account.id))
    }

    /// Who holds this bearer token, if it is valid.
    pub fn authenticate(&self, token: &str) -> Result<Option<Caller>, PlatformError> {
        let Some(region) = auth::token_region(token) else {
            return Ok(None);
        };
        let Some(store) = self.cells.credentials(&region)?.map(|c| &c.store) else {
            return Ok(None);
        };
        let hash = auth::token_hash(token);
        let Some(rec) = store.token(&hash)? else {
            return Ok(None);
        };
        if rec.expires_ms < now_ms() {
            return Ok(None);
        }
        let w = self.world.read().map_err(lock_err)?;
        Ok(w.users.get(&rec.user).map(|u| Caller {
            user: rec.user,
            handle: u.handle.clone(),
            region: u.region.clone(),
            role: u.role,
            token_hash: hash,
            _sealed: Sealed,
        }))
    }

    /// Revokes the caller's token.
    pub fn logout(&self, caller: &Caller) -> Result<(), PlatformError> {
        self.cells
            .home(caller)?
            .store
            .delete_token(&caller.token_hash)?;
        Ok(())
    }
}
