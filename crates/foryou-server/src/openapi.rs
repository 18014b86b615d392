//! The OpenAPI 3 description served at `/openapi.json`.

use serde_json::{json, Map, Value};

struct Op {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    auth: bool,
    body: Option<Value>,
    ok: (&'static str, &'static str),
    errors: &'static [&'static str],
}

fn ops() -> Vec<Op> {
    let obj = |props: &[(&str, &str)], required: &[&str]| {
        let p: Map<String, Value> = props
            .iter()
            .map(|(k, t)| (k.to_string(), json!({"type": t})))
            .collect();
        json!({"content": {"application/json": {"schema": {"type": "object", "properties": p, "required": required}}}})
    };
    vec![
        Op { method: "post", path: "/v1/accounts", summary: "Sign up. The country (ISO 3166-1 alpha-2) fixes the home region: EU/EEA -> eu, US -> us, others -> row.", auth: false,
             body: Some(obj(&[("handle", "string"), ("password", "string"), ("birthdate", "string"), ("country", "string")], &["handle", "password", "birthdate", "country"])),
             ok: ("201", "{id, handle, region}"), errors: &["400", "403", "409", "422", "429", "503"] },
        Op { method: "post", path: "/v1/sessions", summary: "Log in; returns an opaque bearer token. With cookie=true (the web UI) the session is set as an HttpOnly SameSite=Strict cookie instead and the body carries the CSRF token to echo in X-CSRF-Token on writes. Attempts are rate-limited per handle and per client (429 with Retry-After).", auth: false,
             body: Some(obj(&[("handle", "string"), ("password", "string"), ("cookie", "boolean")], &["handle", "password"])), ok: ("201", "{token, user_id} or {user_id, csrf}"), errors: &["400", "401", "429", "503"] },
        Op { method: "delete", path: "/v1/sessions", summary: "Log out: revokes the presented token.", auth: true, body: None, ok: ("204", "revoked"), errors: &["401"] },
        Op { method: "get", path: "/v1/me", summary: "The signed-in account and its profile.", auth: true, body: None, ok: ("200", "{id, handle, region, role, profile}"), errors: &["401"] },
        Op { method: "delete", path: "/v1/me", summary: "Erase the account and everything of it from every region (stores, catalogs, engines, snapshots, media; log records crypto-shredded). Returns a receipt whose SHA-256 is in the transparency log's erasure entry.", auth: true,
             body: Some(obj(&[("password", "string")], &["password"])), ok: ("200", "{erased, receipt}"), errors: &["400", "401", "403", "429", "503"] },
        Op { method: "post", path: "/v1/consent/requests", summary: "Ask a parent for consent to a supervised under-13 account: the message with a one-time link goes to the server's outbox; nothing about the child is kept.", auth: false,
             body: Some(obj(&[("parent_email", "string")], &["parent_email"])), ok: ("202", "{sent}"), errors: &["400", "422", "429"] },
        Op { method: "post", path: "/v1/consent/{token}", summary: "The signed-in parent (an adult) makes the supervised account the link is for.", auth: true,
             body: Some(obj(&[("handle", "string"), ("password", "string"), ("birthdate", "string"), ("country", "string")], &["handle", "password", "birthdate", "country"])), ok: ("201", "{id, handle, region, supervised}"), errors: &["400", "401", "403", "404", "409", "422"] },
        Op { method: "post", path: "/v1/family/links", summary: "Family Pairing: a teen enters the code from their parent's Family page.", auth: true,
             body: Some(obj(&[("code", "string")], &["code"])), ok: ("201", "{parent}"), errors: &["400", "401", "403", "409", "422"] },
        Op { method: "put", path: "/v1/family/{child}", summary: "A parent's controls for their linked child, within the child's age band.", auth: true,
             body: Some(obj(&[("daily_limit_min", "integer"), ("restricted", "boolean"), ("comments", "string"), ("may_be_public", "boolean")], &[])), ok: ("200", "the link with its controls"), errors: &["400", "401", "403", "404"] },
        Op { method: "post", path: "/v1/videos", summary: "Upload a video: multipart/form-data with 'file' (MP4 H.264/AAC or WebM VP8/VP9/AV1 with Opus/Vorbis), 'caption' (<= 2200 characters, #hashtags parsed), optional 'sound_id' (use this sound), 'sound_title' and 'poster' (PNG/JPEG/WebP).", auth: true,
             body: Some(json!({"content": {"multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}, "caption": {"type": "string"}, "sound_id": {"type": "string"}, "sound_title": {"type": "string"}, "poster": {"type": "string", "format": "binary"}}, "required": ["file"]}}}})),
             ok: ("201", "{id, duration_ms, width, height, sound_id, media_url, poster_url, ...}"), errors: &["400", "401", "408", "413", "415", "422", "429", "507"] },
        Op { method: "get", path: "/v1/videos/{id}", summary: "A video's metadata and counts.", auth: false, body: None, ok: ("200", "video"), errors: &["404"] },
        Op { method: "delete", path: "/v1/videos/{id}", summary: "Remove a video: its creator, or staff naming ?purpose= (moderation) through the gateway.", auth: true, body: None, ok: ("204", "removed"), errors: &["401", "403", "404"] },
        Op { method: "get", path: "/v1/videos/{id}/media", summary: "The video bytes; supports Range requests (206, Accept-Ranges).", auth: false, body: None, ok: ("200", "bytes (206 for a range)"), errors: &["404", "416"] },
        Op { method: "get", path: "/v1/videos/{id}/poster", summary: "The poster image.", auth: false, body: None, ok: ("200", "image"), errors: &["404"] },
        Op { method: "get", path: "/v1/videos/{id}/comments", summary: "Top-level comments on a video, oldest first, a page at a time: limit=1..100 (20), cursor. Each has likes, liked (by the viewer) and reply_count.", auth: false, body: None, ok: ("200", "{comments: [{id, author, text, created_ms, likes, liked, reply_count}], total, next_cursor}"), errors: &["400", "404"] },
        Op { method: "get", path: "/v1/comments/{id}/replies", summary: "The replies in a top-level comment's thread, oldest first, paged: limit=1..100 (20), cursor.", auth: false, body: None, ok: ("200", "{comment_id, replies: [{id, author, text, created_ms, likes, liked, reply_to}], total, next_cursor}"), errors: &["400", "404"] },
        Op { method: "get", path: "/v1/me/favorites", summary: "The videos you saved (save events), last saved first, paged: limit=1..100 (60), cursor. Private to you.", auth: true, body: None, ok: ("200", "{videos: [...], next_cursor}"), errors: &["400", "401"] },
        Op { method: "post", path: "/v1/events", summary: "A batch (<= 100) of interaction events: view (watch_ms), skip, like, unlike, save, unsave (favourites), share, comment (text; target = a comment id to reply to it), like_comment/unlike_comment (target comment id), follow/unfollow (target user id, or the video's creator), not_interested (target video|creator|sound), undo_not_interested, approve_follower/decline_follower (target user id). Idempotent by event id; durable before the 200.", auth: true,
             body: Some(json!({"content": {"application/json": {"schema": {"type": "object", "required": ["events"], "properties": {"events": {"type": "array", "items": {"type": "object", "required": ["id", "kind"], "properties": {"id": {"type": "string"}, "kind": {"type": "string", "enum": ["view", "skip", "like", "unlike", "save", "unsave", "share", "comment", "like_comment", "unlike_comment", "follow", "unfollow", "not_interested", "undo_not_interested", "approve_follower", "decline_follower"]}, "video_id": {"type": "string"}, "watch_ms": {"type": "integer"}, "target": {"type": "string"}, "text": {"type": "string"}}}}}}}}})),
             ok: ("200", "{accepted, duplicates, results: [{id, seq, duplicate, comment_id?}]}"), errors: &["400", "401", "403", "413", "422", "429"] },
        Op { method: "get", path: "/v1/feed", summary: "A page of the feed: mode=foryou|following, limit=1..50, personalized=true|false (the non-personalised For You), cursor=0..10000 (paging for following and non-personalised). Items carry reasons. Without a credential: the non-personalised For You, nothing about the visitor read or stored.", auth: false, body: None, ok: ("200", "{items: [...], next_cursor}"), errors: &["400", "401"] },
        Op { method: "post", path: "/v1/feed/refresh", summary: "Forget learned interests and start fresh; follows stay.", auth: true, body: None, ok: ("204", "done"), errors: &["401"] },
        Op { method: "get", path: "/v1/users/{handle}", summary: "A creator's profile by handle.", auth: false, body: None, ok: ("200", "profile"), errors: &["404"] },
        Op { method: "get", path: "/v1/users/by-id/{id}", summary: "A creator's profile by user id.", auth: false, body: None, ok: ("200", "profile"), errors: &["404"] },
        Op { method: "get", path: "/v1/users/{handle}/videos", summary: "A creator's videos, newest first, paged: limit=1..100 (60), cursor.", auth: false, body: None, ok: ("200", "{videos: [...], next_cursor}"), errors: &["400", "404"] },
        Op { method: "get", path: "/v1/sounds/{id}", summary: "A sound and the videos that use it, paged: limit=1..100 (60), cursor. audio_url is set when the sound can be heard.", auth: false, body: None, ok: ("200", "sound"), errors: &["400", "404"] },
        Op { method: "get", path: "/v1/search", summary: "Search creators (handles), hashtags, sounds (titles) and videos (captions): q=1..64 characters (a leading # or @ is ignored), limit=1..20 per kind (10). Only what you may see.", auth: false, body: None, ok: ("200", "{q, creators: [...], hashtags: [...], sounds: [...], videos: [...]}"), errors: &["400"] },
        Op { method: "get", path: "/v1/sounds/trending", summary: "The sounds a region's creators used most in the last 7 days, weighted by how their videos did: region (your home region; signed out eu), limit=1..50 (10).", auth: false, body: None, ok: ("200", "{region, sounds: [{id, title, recent_videos, score, audio_url}]}"), errors: &["400"] },
        Op { method: "get", path: "/v1/effects/{name}", summary: "The videos made with a creation-studio effect (vivid, mono, sepia, warm, beauty, green_screen, split, mirror, text, slow_motion, fast_motion), newest first, paged: limit=1..100 (60), cursor.", auth: false, body: None, ok: ("200", "{effect, video_count, videos: [...], next_cursor}"), errors: &["400", "404"] },
        Op { method: "get", path: "/v1/hashtags/{tag}", summary: "The videos tagged #tag, newest first, paged: limit=1..100 (60), cursor.", auth: false, body: None, ok: ("200", "{tag, video_count, videos: [...], next_cursor}"), errors: &["400"] },
        Op { method: "get", path: "/v1/sounds/{id}/audio", summary: "What the sound sounds like: the file of the video it came from (its audio track), Range supported. 404 when that video is silent, gone or not visible to you.", auth: false, body: None, ok: ("200", "bytes (206 for a range)"), errors: &["400", "404", "416"] },
        Op { method: "get", path: "/v1/admin/users", summary: "One region's accounts for staff, through the gateway: purpose=moderation|support|security|legal (required), region (default your own), limit, cursor. The access policy decides and may pseudonymise; every decision is recorded in that region's access log.", auth: true, body: None, ok: ("200", "{users: [...], total, next_cursor}"), errors: &["400", "401", "403"] },
        Op { method: "get", path: "/v1/admin/access", summary: "The staff gateway's decisions about a region's data (auditors and admins): region, limit, cursor.", auth: true, body: None, ok: ("200", "{decisions: [...], next_cursor}"), errors: &["400", "401", "403"] },
        Op { method: "get", path: "/v1/admin/policy", summary: "The staff access policy in force (staff roles).", auth: true, body: None, ok: ("200", "{about, rules: [...]}"), errors: &["401", "403"] },
        Op { method: "put", path: "/v1/admin/users/{id}/role", summary: "Set a role: user, moderator, auditor, admin (admin only), through the gateway: ?purpose= required.", auth: true, body: Some(obj(&[("role", "string")], &["role"])), ok: ("204", "changed"), errors: &["401", "403", "404", "422"] },
        Op { method: "get", path: "/healthz", summary: "Liveness.", auth: false, body: None, ok: ("200", "{status: ok}"), errors: &[] },
        Op { method: "get", path: "/metrics", summary: "Prometheus metrics: requests and latency by route, uploads, events.", auth: false, body: None, ok: ("200", "text"), errors: &[] },
    ]
}

/// The document.
pub(crate) fn document() -> Value {
    let mut paths = Map::new();
    for op in ops() {
        let mut responses = Map::new();
        responses.insert(op.ok.0.into(), json!({"description": op.ok.1}));
        for e in op.errors {
            responses.insert((*e).into(), json!({"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}));
        }
        let mut o = json!({"summary": op.summary, "responses": responses});
        if let Some(b) = op.body {
            o["requestBody"] = b;
        }
        if op.auth {
            o["security"] = json!([{"bearer": []}, {"cookie": []}]);
        }
        let params: Vec<Value> = op
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|n| json!({"name": n, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        if !params.is_empty() {
            o["parameters"] = Value::Array(params);
        }
        let entry = paths
            .entry(op.path.to_string())
            .or_insert_with(|| json!({}));
        entry[op.method] = o;
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Foryou API", "version": env!("CARGO_PKG_VERSION"), "description": "Short videos, a For You feed, home-region data."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}, "cookie": {"type": "apiKey", "in": "cookie", "name": "fy_session", "description": "the web UI's session; writes also need the X-CSRF-Token header"}},
            "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}}
        }
    })
}
