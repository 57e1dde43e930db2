//! Creating, updating and expiring silences (`Set`, `canUpdate`, `Expire` upstream).

use chrono::{DateTime, Utc};

use super::store::{Entry, Inner};
use super::{SetOutcome, Silence, SilenceError, SilenceState, Silences, to_timestamp};
use crate::proto::Message;
use crate::proto::encode_delimited;
use crate::proto::silence::MeshSilence;

/// Whether `new` may replace `prev` in place (same id) at `now`, like upstream's `canUpdate`.
///
/// The matcher sets must be identical. An active silence keeps its start (compared to the
/// second) and its new end must not be before `now`; a pending silence's new start must not be
/// before `now`; an expired silence is never updated.
pub fn can_update(prev: &Silence, new: &Silence, now: DateTime<Utc>) -> bool {
    if prev.matcher_sets != new.matcher_sets {
        return false;
    }
    match prev.state(now) {
        SilenceState::Active => {
            let secs = |t: Option<DateTime<Utc>>| t.map(|t| t.timestamp());
            secs(prev.starts_at) == secs(new.starts_at) && new.ends_at.is_some_and(|e| e >= now)
        }
        SilenceState::Pending => new.starts_at.is_some_and(|s| s >= now),
        SilenceState::Expired => false,
    }
}

impl Silences {
    /// Creates or updates a silence (`Set`).
    ///
    /// A missing start becomes `now`, then the silence is validated. A given id must exist
    /// ([`SilenceError::NotFound`]). If [`can_update`] allows it the silence is updated in place;
    /// otherwise a new UUIDv4 silence is created (after the `max_silences` check), its start
    /// clamped to `now`, and a still unexpired predecessor is expired first. Both updates are
    /// size-checked before anything changes. The changed silences are broadcast (see
    /// [`Silences::set_broadcast`]) and returned in [`SetOutcome::broadcast`].
    pub fn set(&self, sil: Silence, now: DateTime<Utc>) -> Result<SetOutcome, SilenceError> {
        let out = self.set_locked(sil, now)?;
        self.broadcast(&out.broadcast);
        Ok(out)
    }

    /// [`Silences::set`] without the broadcast; the lock is released on return.
    fn set_locked(&self, mut sil: Silence, now: DateTime<Utc>) -> Result<SetOutcome, SilenceError> {
        if sil.starts_at.is_none() {
            sil.starts_at = Some(now);
        }
        super::validate_silence(&sil, self.opts.name_validation)?;
        let mut inner = self.lock();
        let prev = if sil.id.is_empty() {
            None
        } else {
            match inner.entries.get(&sil.id) {
                Some(e) => Some(e.clone()),
                None => return Err(SilenceError::NotFound(sil.id)),
            }
        };
        sil.updated_at = Some(now);
        if let Some(prev) = prev.as_ref().filter(|p| can_update(&p.silence, &sil, now)) {
            let mut mesh = self.to_mesh(&sil);
            if let Some(p) = mesh.silence.as_mut() {
                p.receiver_matcher_sets = prev
                    .mesh
                    .silence
                    .as_ref()
                    .map(|old| old.receiver_matcher_sets.clone())
                    .unwrap_or_default();
            }
            self.check_size(&mesh)?;
            let broadcast = encode_delimited(std::slice::from_ref(&mesh));
            let id = sil.id.clone();
            inner.insert(self.entry(mesh, sil));
            return Ok(SetOutcome { id, broadcast });
        }
        let limit = self.opts.max_silences;
        if limit > 0 && inner.entries.len() + 1 > limit {
            return Err(SilenceError::TooManySilences {
                count: inner.entries.len(),
                limit,
            });
        }
        sil.id = uuid::Uuid::new_v4().to_string();
        if sil.starts_at.is_some_and(|s| s < now) {
            sil.starts_at = Some(now);
        }
        let mesh = self.to_mesh(&sil);
        self.check_size(&mesh)?;
        let mut msgs = Vec::with_capacity(2);
        if let Some(prev) = prev
            && let Some(expired) = self.expire_locked(&mut inner, &prev.silence.id, now)
        {
            msgs.push(expired);
        }
        msgs.push(mesh.clone());
        let id = sil.id.clone();
        inner.insert(self.entry(mesh, sil));
        Ok(SetOutcome {
            id,
            broadcast: encode_delimited(&msgs),
        })
    }

    /// Expires a silence (`Expire`): an active one ends at `now`, a pending one starts and ends
    /// at `now`; an expired one is left alone and gives an empty broadcast. The expired silence
    /// is broadcast (see [`Silences::set_broadcast`]) and its bytes returned.
    pub fn expire(&self, id: &str, now: DateTime<Utc>) -> Result<Vec<u8>, SilenceError> {
        let bytes = {
            let mut inner = self.lock();
            if !inner.entries.contains_key(id) {
                return Err(SilenceError::NotFound(id.to_owned()));
            }
            self.expire_locked(&mut inner, id, now)
                .map(|m| encode_delimited(&[m]))
                .unwrap_or_default()
        };
        self.broadcast(&bytes);
        Ok(bytes)
    }

    /// Expires `id` under the lock; `None` if unknown or already expired.
    fn expire_locked(
        &self,
        inner: &mut Inner,
        id: &str,
        now: DateTime<Utc>,
    ) -> Option<MeshSilence> {
        let entry = inner.entries.get(id)?;
        let mut sil = entry.silence.clone();
        match sil.state(now) {
            SilenceState::Expired => return None,
            SilenceState::Active => sil.ends_at = Some(now),
            SilenceState::Pending => {
                sil.starts_at = Some(now);
                sil.ends_at = Some(now);
            }
        }
        sil.updated_at = Some(now);
        let mut mesh = entry.mesh.clone();
        mesh.expires_at = Some(to_timestamp(sil.ends_at.map(|e| e + self.opts.retention)));
        if let Some(p) = mesh.silence.as_mut() {
            p.starts_at = Some(to_timestamp(sil.starts_at));
            p.ends_at = Some(to_timestamp(sil.ends_at));
            p.updated_at = Some(to_timestamp(sil.updated_at));
        }
        inner.insert(self.entry(mesh.clone(), sil));
        Some(mesh)
    }

    /// The mesh form of a silence with `expires_at = ends_at + retention`.
    fn to_mesh(&self, sil: &Silence) -> MeshSilence {
        MeshSilence {
            silence: Some(sil.to_proto()),
            expires_at: Some(to_timestamp(sil.ends_at.map(|e| e + self.opts.retention))),
        }
    }

    /// Builds a store entry.
    fn entry(&self, mesh: MeshSilence, silence: Silence) -> Entry {
        let expires_at = super::from_timestamp(mesh.expires_at.as_ref());
        Entry {
            mesh,
            silence,
            expires_at,
        }
    }

    /// Enforces `max_silence_size_bytes` on the encoded mesh silence.
    fn check_size(&self, mesh: &MeshSilence) -> Result<(), SilenceError> {
        let limit = self.opts.max_silence_size_bytes;
        let size = mesh.encoded_len();
        if limit > 0 && size > limit {
            return Err(SilenceError::TooLarge { size, limit });
        }
        Ok(())
    }
}
