"""Uploaded images are checked by decoding them, not by trusting their name or type."""

from django import forms
from PIL import Image, UnidentifiedImageError

MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}  # MPO: what many phone cameras write


def check_image(upload):
    """Return the upload when it is a readable image of an accepted type under 5 MB."""
    if not upload:
        return upload
    if upload.size > MAX_IMAGE_BYTES:
        raise forms.ValidationError("The image is larger than 5 MB.")
    try:
        with Image.open(upload) as img:
            fmt = img.format
            img.verify()  # reads the whole file: a truncated or fake image fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise forms.ValidationError("That file is not an image we can read.") from None
    if fmt not in IMAGE_FORMATS:
        raise forms.ValidationError("Use a JPEG, PNG, WebP or GIF image.")
    upload.seek(0)
    return upload
