"""The independent reader of the tagging tests: mutagen (pinned in the test
venv) reports every file's tags and genre, or writes a genre the way another
tagger would. Usage: mutagen_probe.py dump FILE... | tag FILE GENRE"""
import hashlib
import json
import sys

import mutagen


def genre_of(tags):
    if tags is None:
        return []
    if hasattr(tags, "getall") and "TCON" in tags:  # ID3
        return list(tags["TCON"].genres)
    for key in ("genre", "\xa9gen", "Genre", "GENRE"):
        try:
            vals = tags[key]
        except (KeyError, ValueError, TypeError):
            continue
        return [str(v) for v in (vals if isinstance(vals, list) else [vals])]
    return []


def is_genre(key):
    k = str(key)
    return k in ("TCON", "\xa9gen", "gnre") or k.lower() == "genre"


def others(tags):
    """Every tag but the genre, each as a digest of mutagen's repr."""
    out = {}
    if tags is None:
        return out
    for key, value in tags.items():
        if is_genre(key):
            continue
        out[str(key)] = hashlib.sha256(repr(value).encode()).hexdigest()[:16]
    return out


def audio_stream(path, f):
    """A Theora video in front of an Ogg's audio: mutagen.File reads the
    video's comments; a music reader (ffmpeg, GStreamer, earmark) the audio
    stream's, which mutagen's audio classes find among the streams."""
    if type(f).__name__ != "OggTheora":
        return f
    from mutagen.oggflac import OggFLAC
    from mutagen.oggopus import OggOpus
    from mutagen.oggspeex import OggSpeex
    from mutagen.oggvorbis import OggVorbis

    for kind in (OggVorbis, OggOpus, OggFLAC, OggSpeex):
        try:
            return kind(path)
        except Exception:  # noqa: BLE001 - not this codec
            continue
    return f


def dump(paths):
    out = {}
    for p in paths:
        try:
            f = audio_stream(p, mutagen.File(p))
        except Exception as e:  # noqa: BLE001 - a report, not a crash
            out[p] = {"error": f"{type(e).__name__}: {e}"}
            continue
        if f is None:
            out[p] = {"error": "not recognised"}
            continue
        info = getattr(f, "info", None)
        out[p] = {
            "genre": genre_of(f.tags),
            "others": others(f.tags),
            "length": round(getattr(info, "length", 0) or 0, 3),
            "channels": getattr(info, "channels", None),
            "sample_rate": getattr(info, "sample_rate", None),
        }
    print(json.dumps(out))


def tag(path, genre):
    try:
        f = mutagen.File(path)
        if f is None:
            raise ValueError("not recognised")
        if f.tags is None:
            f.add_tags()
        tags = f.tags
        if hasattr(tags, "getall"):
            from mutagen.id3 import TCON

            tags.setall("TCON", [TCON(encoding=3, text=[genre])])
        elif type(tags).__name__ == "MP4Tags":
            tags["\xa9gen"] = [genre]
        else:
            tags["genre"] = [genre]
        f.save()
        print(json.dumps({"ok": True}))
    except Exception as e:  # noqa: BLE001
        print(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}))


if __name__ == "__main__":
    if sys.argv[1] == "dump":
        dump(sys.argv[2:])
    else:
        tag(sys.argv[2], sys.argv[3])
