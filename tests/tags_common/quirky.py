"""Generate COUNT quirky tagged files under OUT for the tag-write soak:
ffmpeg makes the audio, mutagen (the pinned venv) writes the tags other
taggers write: ID3v2.3 with NUL and '/' multi-values, v2.4, ID3v1-only,
APEv2 trailers, pictures, repeated GENRE comments, MP4 without ilst or with
faststart (moov first), WAV with ID3 + RIFF INFO, AIFF. Templates are copied under long,
Unicode and spaced names. Usage: quirky.py OUT COUNT"""
import os
import shutil
import subprocess
import sys

import mutagen.id3 as id3
from mutagen.apev2 import APEv2
from mutagen.flac import FLAC, Picture
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.aiff import AIFF
from mutagen.wave import WAVE

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def ff(path, *codec, meta=()):
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=523:duration=6"]
        + list(meta) + list(codec) + [path],
        check=True,
    )


def templates(d):
    p = lambda n: os.path.join(d, n)
    bare = ["-map_metadata", "-1"]
    out = []
    f = p("untagged.mp3")
    ff(f, "-id3v2_version", "0", "-write_xing", "0", "-c:a", "libmp3lame", meta=bare)
    out.append(f)
    for name, sep, ver in (("v23nul.mp3", None, 3), ("v23slash.mp3", "/", 3), ("v24.mp3", "/", 4)):
        f = p(name)
        ff(f, "-id3v2_version", "0", "-c:a", "libmp3lame", meta=bare)
        t = id3.ID3()
        t.add(id3.TPE1(encoding=1, text=["piman", "jzig"]))
        t.add(id3.TIT2(encoding=1, text=["Квартет"]))
        t.add(id3.TCON(encoding=1, text=["Rock", "Pop"]))
        t.add(id3.COMM(encoding=1, lang="eng", desc="", text=["a comment"]))
        t.add(id3.APIC(encoding=0, mime="image/png", type=3, desc="", data=PNG))
        t.add(id3.TXXX(encoding=1, desc="MOOD", text=["calm"]))
        t.save(f, v2_version=ver, v23_sep=sep)
        out.append(f)
    f = p("id3v1only.mp3")
    ff(f, "-id3v2_version", "0", "-write_id3v1", "1", "-c:a", "libmp3lame",
       meta=bare + ["-metadata", "genre=Blues", "-metadata", "title=Old"])
    out.append(f)
    f = p("apev2.mp3")
    ff(f, "-id3v2_version", "3", "-c:a", "libmp3lame", meta=["-metadata", "artist=Ape"])
    a = APEv2()
    a["Artist"] = "Ape"
    # no APE genre: earmark refuses to write beside one (it rewrites ID3 only)
    a.save(f)
    out.append(f)
    f = p("multi.flac")
    ff(f, "-c:a", "flac", meta=bare)
    t = FLAC(f)
    t["GENRE"] = ["Rock", "Pop", "Jazz"]
    t["ARTIST"] = ["a", "b"]
    pic = Picture()
    pic.type, pic.mime, pic.data = 3, "image/png", PNG
    t.add_picture(pic)
    t.save()
    out.append(f)
    f = p("untagged.flac")
    ff(f, "-c:a", "flac", meta=bare)
    out.append(f)
    f = p("lower.ogg")
    ff(f, "-c:a", "libvorbis", meta=bare)
    t = OggVorbis(f)
    t["genre"] = ["Rock", "Soul"]
    t["title"] = ["x"]
    t.save()
    out.append(f)
    f = p("tagged.opus")
    ff(f, "-c:a", "libopus", meta=bare)
    t = OggOpus(f)
    t["GENRE"] = ["Ambient"]
    t["ARTIST"] = ["o"]
    t.save()
    out.append(f)
    f = p("covr.m4a")
    ff(f, "-c:a", "aac", meta=bare)
    t = MP4(f)
    t["\xa9gen"] = ["Rock", "Pop"]
    t["\xa9ART"] = ["m"]
    t["covr"] = [MP4Cover(PNG, imageformat=MP4Cover.FORMAT_PNG)]
    t.save()
    out.append(f)
    f = p("noilst.m4a")
    ff(f, "-c:a", "aac", meta=bare)
    out.append(f)
    f = p("faststart.m4a")  # moov before mdat: chunk offsets move
    ff(f, "-c:a", "aac", "-movflags", "+faststart", meta=bare)
    t = MP4(f)
    if t.tags is None:
        t.add_tags()
    t["\xa9gen"] = ["Rock"]
    t["\xa9nam"] = ["fast"]
    t.save(padding=lambda info: 0)
    out.append(f)
    f = p("info.wav")
    ff(f, "-c:a", "pcm_s16le", meta=bare + ["-metadata", "genre=Folk", "-metadata", "artist=W"])
    t = WAVE(f)
    t.add_tags()
    t.tags.add(id3.TCON(encoding=3, text=["Folk"]))
    t.tags.add(id3.TPE1(encoding=3, text=["W"]))
    t.save()
    out.append(f)
    f = p("plain.wav")
    ff(f, "-c:a", "pcm_s16le", meta=bare)
    out.append(f)
    f = p("id3.aiff")
    ff(f, "-c:a", "pcm_s16be", meta=bare)
    t = AIFF(f)
    t.add_tags()
    t.tags.add(id3.TCON(encoding=1, text=["Jazz"]))
    t.tags.add(id3.TIT2(encoding=1, text=["aiff"]))
    t.save(v2_version=3)
    out.append(f)
    f = p("plain.aiff")
    ff(f, "-c:a", "pcm_s16be", meta=bare)
    out.append(f)
    return out


def main():
    out, count = sys.argv[1], int(sys.argv[2])
    tpl = os.path.join(out, ".templates")
    os.makedirs(tpl, exist_ok=True)
    names = templates(tpl)
    stems = ["track", "Тема № %d", "a name with  spaces", "x" * 200, "日本語の曲"]
    for i in range(count):
        src = names[i % len(names)]
        ext = os.path.splitext(src)[1]
        stem = stems[i % len(stems)].replace("%d", str(i))
        d = os.path.join(out, "lib", "%02d" % (i // 100))
        os.makedirs(d, exist_ok=True)
        shutil.copyfile(src, os.path.join(d, "%04d %s%s" % (i, stem[:200], ext)))
    shutil.rmtree(tpl)


main()
