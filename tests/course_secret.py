"""The course secret of worlds that tests build twice and compare (`sandbox build --secret`)."""

SECRET_HEX = "5ec7e75ec7e75ec7e75ec7e75ec7e75e"
SECRET = bytes.fromhex(SECRET_HEX)
