"""Everything but the picture passes through, as ffmpeg's ``-map 0 -map_metadata 0`` does: audio
(copied, or re-encoded when the output container cannot hold it), subtitle and data streams (copied
when the container can hold them; text subtitles converted to a text format it holds, as ffmpeg's
``-c:s mov_text`` does; else dropped with one note naming them), each stream's language, title and
disposition, and the container's metadata (creation time, title, location ...).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import av

from rest_video.core.errors import first_line

log = logging.getLogger(__name__)

# container metadata that describes the old file's muxer, not the content: the new muxer writes its own
MUXER_KEYS = frozenset({"major_brand", "minor_version", "compatible_brands", "encoder", "handler_name",
                        "vendor_id", "duration", "_statistics_tags", "number_of_frames", "number_of_bytes"})

# audio codecs editors read in AVI (AAC's priming samples shift AVI's single clock)
AVI_AUDIO = ("pcm_s16le", "pcm_s24le", "mp3", "libmp3lame")

_STANDARD_LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1", 8: "7.1"}

# subtitle codecs that carry text (bitmap ones, DVD and PGS, cannot be converted), and the text
# formats to convert them to, in order of preference, when the output container holds another one
TEXT_SUBTITLES = frozenset({"subrip", "srt", "ass", "ssa", "mov_text", "webvtt", "text"})
TEXT_TARGETS = ("mov_text", "subrip", "ass", "webvtt")


# ISO 639-2 has two codes for these languages (bibliographic / terminology); QuickTime's own table,
# which FFmpeg's mov muxer writes, holds only one of them and writes the other as unspecified
MOV_LANGUAGE = {"sqi": "alb", "hye": "arm", "eus": "baq", "mya": "bur", "zho": "chi", "nld": "dut",
                "kat": "geo", "deu": "ger", "ell": "gre", "isl": "ice", "mkd": "mac", "msa": "may",
                "fas": "per", "bod": "tib", "cym": "wel", "cze": "ces", "fre": "fra", "rum": "ron",
                "slo": "slk"}


@dataclass
class AudioTrack:
    """One audio stream of the input and what the output does with it."""

    in_stream: object
    out_stream: object = None
    decoder: object = None
    reencode: bool = False


def user_metadata(metadata: dict) -> dict[str, str]:
    """The metadata items that describe the content (:data:`MUXER_KEYS` left out)."""
    return {k: v for k, v in dict(metadata or {}).items() if k.lower() not in MUXER_KEYS}


def copy_stream_info(src, dst) -> None:
    """Language, title and the other stream tags, and the disposition (default, forced ...). Into
    ``.mov`` a language goes in the ISO 639-2 form QuickTime's table holds (``deu`` as ``ger``)."""
    fmt = getattr(getattr(dst, "container", None), "format", None)
    mov = fmt is not None and fmt.name == "mov"
    for k, v in user_metadata(src.metadata).items():
        dst.metadata[k] = MOV_LANGUAGE.get(v, v) if mov and k == "language" else v
    try:
        dst.disposition = src.disposition
    except (AttributeError, ValueError, TypeError):
        pass


def note_lost_languages(path, wanted: dict[int, str], suffix: str) -> None:
    """One note naming the streams of the written file ``path`` whose language (``wanted``, by
    stream index) did not survive: QuickTime's table has no code for every language."""
    try:
        with av.open(str(path)) as c:
            got = {s.index: s.metadata.get("language") for s in c.streams}
    except (av.FFmpegError, OSError):
        return
    lost = [f"#{i} ({lang})" for i, lang in wanted.items() if got.get(i) != lang]
    if lost:
        log.info("note: %s has no code for the language of stream %s; written as unspecified",
                 suffix, ", ".join(lost))


def setup_audio(container, in_stream, mode: str, muxer: str, suffix: str,
                notes: list[str]) -> AudioTrack | None:
    """An output stream for ``in_stream`` (``mode``: copy, reencode), or None when the container
    holds no audio; what changes is added to ``notes`` (the caller says it in one line)."""
    name = in_stream.codec_context.name
    supported = getattr(container, "supported_codecs", None)
    can_copy = mode == "copy" and (supported is None or name in supported)
    if muxer == "avi" and name not in AVI_AUDIO:
        can_copy = False
    track = AudioTrack(in_stream)
    if can_copy:
        try:
            track.out_stream = container.add_stream_from_template(in_stream)
        except (av.FFmpegError, ValueError) as e:
            notes.append(f"cannot copy {name} audio ({first_line(e, 120)})")
            can_copy = False
    if not can_copy:
        codec = _reencode_codec(supported, muxer)
        if codec is None:
            notes.append(f"{suffix} cannot hold audio: audio #{in_stream.index} ({name}) dropped")
            return None
        cc = in_stream.codec_context
        rate = cc.sample_rate or 48000
        allowed = av.Codec(codec, "w").audio_rates
        if allowed and rate not in allowed:
            rate = 48000 if 48000 in allowed else max(allowed)
        layout = _encoder_layout(codec, rate, cc.layout)
        track.out_stream = container.add_stream(codec, rate=rate)
        track.out_stream.layout = layout
        copy_stream_info(in_stream, track.out_stream)
        track.decoder = av.CodecContext.create(cc.name, "r")
        track.decoder.extradata = cc.extradata
        try:
            track.decoder.sample_rate = cc.sample_rate
            track.decoder.layout = cc.layout
            track.decoder.format = cc.format
        except Exception:  # noqa: BLE001 - the decoder finds them in the packets
            pass
        track.reencode = True
        old = cc.layout.name if cc.layout is not None else "?"
        changed = f", {old} as {layout}" if layout != old else ""
        if mode == "copy":
            notes.append(f"{suffix} cannot hold {name} audio: audio #{in_stream.index} re-encoded to "
                         f"{codec}{changed}")
    else:
        copy_stream_info(in_stream, track.out_stream)
    return track


def _reencode_codec(supported, muxer: str) -> str | None:
    order = ("pcm_s16le", "libmp3lame") if muxer == "avi" else ("aac", "libopus", "opus", "libvorbis", "mp3")
    for c in order:
        if c in av.codecs_available and (supported is None or c in supported):
            return c
    return None


def _encoder_layout(codec: str, rate: int, layout) -> str:
    """The input's channel layout if ``codec`` opens with it, else the standard layout of as many
    channels (``5.1(side)`` -> ``5.1``), else stereo."""
    names = []
    if layout is not None:
        names.append(layout.name)
        std = _STANDARD_LAYOUTS.get(layout.nb_channels)
        if std and std != layout.name:
            names.append(std)
    names.append("stereo")
    for name in names:
        cc = av.CodecContext.create(codec, "w")
        cc.sample_rate, cc.layout = rate, name
        cc.format = av.Codec(codec, "w").audio_formats[0]
        try:
            cc.open()
            return name
        except (av.FFmpegError, ValueError):
            continue
    return "stereo"


class StreamCopy:
    """A subtitle or data stream copied packet for packet."""

    def __init__(self, out_stream) -> None:
        self.out_stream = out_stream

    def packets(self, packet) -> list:
        packet.stream = self.out_stream
        return [packet]


class TextConversion:
    """A text subtitle stream re-encoded, cue for cue, to a text format the output holds (SubRip in
    MP4 becomes mov_text); timing comes from the input's packets, styling as far as the target has it."""

    def __init__(self, in_stream, out_stream) -> None:
        self.decoder = in_stream.codec_context
        self.decoder.open()  # its ASS header (the file's, or FFmpeg's default) opens the encoder
        self.out_stream = out_stream
        out_stream.codec_context.subtitle_header = self.decoder.subtitle_header
        out_stream.codec_context.time_base = in_stream.time_base

    def packets(self, packet) -> list:
        if not packet.size:
            return []
        subtitles = self.decoder.decode2(packet)
        if subtitles is None:
            return []
        out = self.out_stream.codec_context.encode_subtitle(subtitles)
        out.stream = self.out_stream
        out.pts = out.dts = packet.pts
        out.duration = packet.duration
        out.time_base = packet.time_base
        return [out]


def setup_copies(container, streams, suffix: str) -> dict[int, StreamCopy | TextConversion]:
    """What becomes of the input's subtitle and data streams, keyed by input stream index: copied when
    ``container`` can hold them, text subtitles converted when it holds another text format; one note
    names what is converted and what is dropped."""
    supported = getattr(container, "supported_codecs", None)
    out, dropped, converted = {}, [], []
    for s in streams:
        name = s.codec_context.name if s.codec_context is not None else "data"
        what = f"{s.type} #{s.index} ({name})"
        try:
            if supported is None or name in supported:
                o = container.add_stream_from_template(s)
                out[s.index] = StreamCopy(o)
            else:
                target = _text_target(name, supported)
                if target is None:
                    dropped.append(what)
                    continue
                o = container.add_stream(target)
                out[s.index] = TextConversion(s, o)
                converted.append(f"{what}: converted to {target}")
        except (av.FFmpegError, ValueError, TypeError, AttributeError):
            dropped.append(what)
            continue
        copy_stream_info(s, o)
    said = []
    if converted:
        said.append(f"{suffix} cannot hold {', '.join(converted)}")
    if dropped:
        said.append(f"{suffix} cannot hold {', '.join(dropped)}; dropped")
    if said:
        log.info("note: %s", "; ".join(said))
    return out


def _text_target(name: str, supported) -> str | None:
    if name not in TEXT_SUBTITLES:
        return None
    for target in TEXT_TARGETS:
        if target in supported and target in av.codecs_available:
            return target
    return None
