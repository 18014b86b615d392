//! Uploads (checked, stored, indexed; nothing left behind on refusal), removal, media reads and
//! the upload quota.

use super::*;

impl Platform {
    /// Checks, stores and indexes an upload. On any refusal nothing is left behind.
    pub fn upload(&self, caller: &Caller, input: UploadInput) -> Result<VideoId, PlatformError> {
        let file = input.file.clone();
        let result = self.upload_inner(caller, input);
        let _ = std::fs::remove_file(&file);
        match &result {
            Ok(_) => self.metrics.upload("accepted"),
            Err(e) => self.metrics.upload(e.code),
        }
        result
    }

    pub(super) fn upload_inner(
        &self,
        caller: &Caller,
        input: UploadInput,
    ) -> Result<VideoId, PlatformError> {
        validate_caption(&input.caption)?;
        let size = std::fs::metadata(&input.file)
            .map_err(PlatformError::internal)?
            .len();
        if size > self.config.max_upload_bytes {
            return Err(too_large(size, self.config.max_upload_bytes));
        }
        self.check_upload_quota(caller, size)?;
        let data = std::fs::read(&input.file).map_err(PlatformError::internal)?;
        let info = foryou_media::probe(&data)?;
        drop(data);
        if info.duration_ms > self.config.max_video_ms {
            return Err(PlatformError::unprocessable(
                "video_too_long",
                format!(
                    "the video is {:.1} s long; the limit is {} s, so trim it",
                    info.duration_ms as f64 / 1000.0,
                    self.config.max_video_ms / 1000
                ),
            ));
        }
        let poster = match input.poster {
            Some(bytes) if !bytes.is_empty() => {
                let mime = foryou_media::image_mime(&bytes).ok_or_else(|| {
                    PlatformError::new(
                        Kind::Unsupported,
                        "unsupported_poster",
                        "the poster must be a PNG, JPEG or WebP image",
                    )
                })?;
                if bytes.len() > 2 << 20 {
                    return Err(PlatformError::new(
                        Kind::TooLarge,
                        "poster_too_large",
                        "the poster is over 2 MiB; send a smaller image",
                    ));
                }
                (bytes, mime)
            }
            _ => (
                placeholder_poster(info.width, info.height, caller.user.0),
                "image/png",
            ),
        };
        let sound_title = input
            .sound_title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| t.chars().take(100).collect::<String>());
        let id = VideoId(new_id());
        let now = now_ms();
        let (sound, new_sound) = match input.sound_id {
            Some(s) => {
                if !self.world.read().map_err(lock_err)?.sounds.contains_key(&s) {
                    return Err(PlatformError::unprocessable("unknown_sound", format!("sound_id: no sound with id {s}; leave it out to use the video's own sound")));
                }
                (s, None)
            }
            None => {
                let s = Sound {
                    id: SoundId(new_id()),
                    title: sound_title
                        .unwrap_or_else(|| format!("original sound - {}", caller.handle)),
                    creator: caller.user,
                    region: caller.region.clone(),
                    origin: id,
                    created_ms: now,
                };
                (s.id, Some(s))
            }
        };
        let media_key = format!("videos/{id}.{}", info.container.extension());
        let poster_key = format!("posters/{id}.{}", poster.1.trim_start_matches("image/"));
        let cell = self.cells.home(caller)?;
        let media = &cell.media;
        let video = Video {
            id,
            creator: caller.user,
            region: caller.region.clone(),
            caption: input.caption.clone(),
            hashtags: hashtags(&input.caption),
            sound,
            duration_ms: info.duration_ms,
            width: info.width,
            height: info.height,
            mime: info.container.mime().to_string(),
            video_codec: info.video_codec.to_string(),
            audio_codec: info.audio_codec.map(str::to_string),
            media_key: media_key.clone(),
            poster_key: poster_key.clone(),
            poster_mime: poster.1.to_string(),
            mature: input.mature,
            removed: false,
            effects: input.effects.clone(),
            size_bytes: size,
            created_ms: now,
        };
        let stored = media
            .put_file(&media_key, &input.file)
            .and_then(|_| media.put(&poster_key, &poster.0))
            .map_err(PlatformError::from)
            .and_then(|_| {
                cell.store
                    .insert_video(&video, new_sound.as_ref())
                    .map_err(PlatformError::from)
            });
        if let Err(e) = stored {
            let _ = media.delete(&media_key);
            let _ = media.delete(&poster_key);
            return Err(e);
        }
        self.index_video(video, new_sound)?;
        Ok(id)
    }

    /// Adds a stored video to the projection and every region's engine.
    pub(crate) fn index_video(
        &self,
        video: Video,
        new_sound: Option<Sound>,
    ) -> Result<(), PlatformError> {
        self.index_videos(vec![video], new_sound.into_iter().collect())
    }

    /// Adds stored videos to the projection and publishes them in every region's log (one batch
    /// per region), so each engine learns of them at their place in its own stream.
    pub(crate) fn index_videos(
        &self,
        videos: Vec<Video>,
        new_sounds: Vec<Sound>,
    ) -> Result<(), PlatformError> {
        let records: Vec<EventRecord> = videos
            .iter()
            .map(|v| catalog_record(EventKind::Publish, v))
            .collect();
        self.append_catalog(&records)?;
        let mut facts: BTreeMap<Region, Vec<(u64, public::Fact)>> = BTreeMap::new();
        if self.feed.is_some() {
            for s in &new_sounds {
                let region = videos
                    .iter()
                    .find(|v| v.sound == s.id)
                    .map(|v| v.region.clone());
                if let Some(r) = region {
                    facts
                        .entry(r)
                        .or_default()
                        .push((s.creator.0, public::Fact::Sound(s.clone())));
                }
            }
            for v in &videos {
                facts
                    .entry(v.region.clone())
                    .or_default()
                    .push((v.creator.0, public::Fact::Video(v.clone())));
            }
        }
        {
            let mut w = self.world.write().map_err(lock_err)?;
            for s in new_sounds {
                w.sounds.insert(s.id, s);
            }
            for v in videos {
                w.add_video(v);
            }
        }
        for (region, facts) in facts {
            self.publish_facts(&region, facts, Publish::Append);
        }
        Ok(())
    }

    /// Appends catalog records to every region's log and feeds each region's engine its copies.
    pub(super) fn append_catalog(&self, records: &[EventRecord]) -> Result<(), PlatformError> {
        if records.is_empty() {
            return Ok(());
        }
        for public in self.cells.publics() {
            public.append_catalog(records, &|a| self.project(a))?;
        }
        Ok(())
    }

    /// Marks a video mature (or not): its creator may; staff through the gateway (category
    /// `content`), logged like every staff change. Mature videos never reach the feeds of people
    /// under 18 or of signed-out visitors.
    pub fn set_mature(
        &self,
        caller: &Caller,
        id: VideoId,
        mature: bool,
        purpose: Option<&str>,
    ) -> Result<(), PlatformError> {
        let video = {
            let w = self.world.read().map_err(lock_err)?;
            w.videos
                .get(&id)
                .filter(|e| self.may_see(&w, Some(caller.user), e.video.creator))
                .map(|e| e.video.clone())
                .ok_or_else(|| PlatformError::not_found(format!("no video with id {id}")))?
        };
        let apply = |cell: &cells::Cell| -> Result<(), PlatformError> {
            let updated = Video {
                mature,
                ..video.clone()
            };
            if !cell.store.update_video(&updated)? {
                return Err(PlatformError::not_found(format!("no video with id {id}")));
            }
            if let Some(e) = self.world.write().map_err(lock_err)?.videos.get_mut(&id) {
                e.video.mature = mature;
            }
            let fact = (updated.creator.0, public::Fact::Video(updated.clone()));
            self.publish_facts(&updated.region, vec![fact], Publish::Append);
            Ok(())
        };
        if video.creator == caller.user {
            return apply(self.cells.home(caller)?);
        }
        if !matches!(caller.role, Role::Moderator | Role::Admin) {
            return Err(PlatformError::forbidden(
                "only the creator, a moderator or an admin may mark this video",
            ));
        }
        let purpose = super::staff::required_purpose(purpose, "change someone else's video")?;
        let req = super::staff::StaffRequest {
            target: &video.region,
            purpose,
            category: "content",
            action: format!("mark video {id} mature={mature}"),
            verb: if mature {
                "mark video mature".into()
            } else {
                "unmark video mature".into()
            },
            subject: super::staff::Subject::Video(id),
            effect: super::staff::Effect::Change,
        };
        self.through_gateway(caller, req, |grant| {
            apply(self.cells.granted(grant)?).map(|()| ((), 1))
        })
    }

    /// Removes a video: its creator, a moderator or an admin may. Media and poster go too.
    pub fn delete_video(
        &self,
        caller: &Caller,
        id: VideoId,
        purpose: Option<&str>,
    ) -> Result<(), PlatformError> {
        let video = {
            let w = self.world.read().map_err(lock_err)?;
            w.videos
                .get(&id)
                .map(|e| e.video.clone())
                .ok_or_else(|| PlatformError::not_found(format!("no video with id {id}")))?
        };
        if video.creator == caller.user {
            return self.remove_video(self.cells.home(caller)?, caller, &video);
        }
        if !matches!(caller.role, Role::Moderator | Role::Admin) {
            return Err(PlatformError::forbidden(
                "only the creator, a moderator or an admin may remove this video",
            ));
        }
        // Staff removing someone else's video reach that person's data: through the gateway.
        let purpose = super::staff::required_purpose(purpose, "remove someone else's video")?;
        let req = super::staff::StaffRequest {
            target: &video.region,
            purpose,
            category: "content",
            action: format!("remove video {id}"),
            verb: "remove video".into(),
            subject: super::staff::Subject::Video(id),
            effect: super::staff::Effect::Change,
        };
        self.through_gateway(caller, req, |grant| {
            self.remove_video(self.cells.granted(grant)?, caller, &video)
                .map(|()| ((), 1))
        })
    }

    /// Removes `video` from its region's `cell` (the creator's own, or one the gateway granted).
    fn remove_video(
        &self,
        cell: &cells::Cell,
        caller: &Caller,
        video: &Video,
    ) -> Result<(), PlatformError> {
        let id = video.id;
        cell.store.delete_video(id)?;
        let media = &cell.media;
        media.delete(&video.media_key)?;
        media.delete(&video.poster_key)?;
        self.append_catalog(&[catalog_record(EventKind::Unpublish, video)])?;
        self.world.write().map_err(lock_err)?.remove_video(video);
        let fact = (video.creator.0, public::Fact::VideoGone(id));
        self.publish_facts(&video.region, vec![fact], Publish::Append);
        // Its comments, likes, counts and learned state, in every region.
        self.erase_videos(&[id])?;
        tracing::info!(video = %id, by = %caller.user, role = ?caller.role, "video removed");
        Ok(())
    }

    /// Where a video's media (or poster) lives: its region, object key and MIME type.
    fn media_object(
        &self,
        id: VideoId,
        poster: bool,
    ) -> Result<(Region, String, String), PlatformError> {
        let w = self.world.read().map_err(lock_err)?;
        let v = &w
            .videos
            .get(&id)
            .ok_or_else(|| PlatformError::not_found(format!("no video with id {id}")))?
            .video;
        Ok(if poster {
            (
                v.region.clone(),
                v.poster_key.clone(),
                v.poster_mime.clone(),
            )
        } else {
            (v.region.clone(), v.media_key.clone(), v.mime.clone())
        })
    }

    /// The media or poster bytes of a video: (mime, total size, bytes of the range).
    pub fn read_media(
        &self,
        id: VideoId,
        poster: bool,
        range: Option<(u64, u64)>,
    ) -> Result<(String, u64, Vec<u8>), PlatformError> {
        let (region, key, mime) = self.media_object(id, poster)?;
        let public = self.cells.public(&region)?;
        let size = public
            .media_size(&key)?
            .ok_or_else(|| PlatformError::not_found("the media file is missing"))?;
        let (start, len) = match range {
            Some((s, e)) => (s, e.saturating_sub(s).saturating_add(1)),
            None => (0, size),
        };
        Ok((mime, size, public.media_range(&key, start, len)?))
    }

    /// The MIME type and size of a video's media file, or of its poster.
    pub fn media_meta(&self, id: VideoId, poster: bool) -> Result<(String, u64), PlatformError> {
        let (region, key, mime) = self.media_object(id, poster)?;
        let size = self
            .cells
            .public(&region)?
            .media_size(&key)?
            .ok_or_else(|| PlatformError::not_found("the media file is missing"))?;
        Ok((mime, size))
    }

    /// Refuses an upload of `size` more bytes when the caller has made
    /// `config.max_uploads_per_day` uploads in the last 24 hours or would keep more than
    /// `config.max_user_storage_bytes`.
    pub fn check_upload_quota(&self, caller: &Caller, size: u64) -> Result<(), PlatformError> {
        let since = now_ms().saturating_sub(86_400_000);
        let (today, stored) = {
            let w = self.world.read().map_err(lock_err)?;
            let mine = w
                .by_creator
                .get(&caller.user)
                .map(|v| v.as_slice())
                .unwrap_or(&[]);
            mine.iter()
                .filter_map(|id| w.videos.get(id))
                .fold((0usize, 0u64), |(n, bytes), e| {
                    (
                        n + usize::from(e.video.created_ms >= since),
                        bytes.saturating_add(e.video.size_bytes),
                    )
                })
        };
        let quota = |msg: String| PlatformError {
            retry_after_s: Some(3600),
            ..PlatformError::new(Kind::TooMany, "upload_quota", msg)
        };
        if today >= self.config.max_uploads_per_day {
            return Err(quota(format!(
                "you have posted {today} videos in the last 24 hours, the most allowed; post again tomorrow"
            )));
        }
        if stored.saturating_add(size) > self.config.max_user_storage_bytes {
            return Err(PlatformError::new(
                Kind::StorageFull,
                "storage_quota",
                format!(
                    "your videos take {} MiB of your {} MiB; remove some to post more",
                    stored >> 20,
                    self.config.max_user_storage_bytes >> 20
                ),
            ));
        }
        Ok(())
    }
}

fn too_large(size: u64, max: u64) -> PlatformError {
    PlatformError::new(
        Kind::TooLarge,
        "video_too_large",
        format!(
            "the file is {:.1} MiB; the limit is {} MiB, so compress or trim it",
            size as f64 / 1_048_576.0,
            max >> 20
        ),
    )
}

/// The 413 for an upload cut off at the limit while receiving.
pub fn upload_too_large(max: u64) -> PlatformError {
    PlatformError::new(
        Kind::TooLarge,
        "video_too_large",
        format!(
            "the file is over the {} MiB limit; compress or trim it",
            max >> 20
        ),
    )
}

/// A gradient poster for uploads that bring none (the server does not decode video).
fn placeholder_poster(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let (w, h) = if width >= height {
        (160u32, 90u32)
    } else {
        (90u32, 160u32)
    };
    let hue = (seed % 360) as f64;
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for _ in 0..w {
            let t = f64::from(y) / f64::from(h);
            let c =
                |o: f64| (((hue + o).to_radians().sin() * 0.5 + 0.5) * (200.0 - 120.0 * t)) as u8;
            rgb.extend_from_slice(&[c(0.0), c(120.0), c(240.0)]);
        }
    }
    foryou_media::png::encode(w, h, &rgb)
}

/// A catalog record for a video that leaves or rejoins the catalog after its first time (a
/// moderator's takedown, a granted appeal): its own id, so the log does not take it for a resend.
pub(super) fn catalog_record_again(kind: EventKind, v: &Video) -> EventRecord {
    EventRecord {
        id: format!("{}-{}-{:x}", kind.as_str(), v.id, new_id()),
        ..catalog_record(kind, v)
    }
}

/// The catalog record of a video: public facts only (id, creator, sound, tags, duration), never
/// the caption; the same id per video and kind, so a resend is a duplicate.
fn catalog_record(kind: EventKind, v: &Video) -> EventRecord {
    EventRecord {
        video: Some(v.id),
        creator: Some(v.creator),
        sound: Some(v.sound),
        duration_ms: Some(v.duration_ms),
        tags: v.hashtags.clone(),
        ..EventRecord::new(
            format!("{}-{}", kind.as_str(), v.id),
            v.creator,
            v.region.clone(),
            kind,
            if kind == EventKind::Publish {
                v.created_ms
            } else {
                now_ms()
            },
        )
    }
}
