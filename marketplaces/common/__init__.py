"""What every site kind shares: world access, trainee state, sessions, CAPTCHA, queue, files, leaks."""
