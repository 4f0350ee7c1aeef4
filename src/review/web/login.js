/* kestrel review: the login page. Posts the name and password as JSON; the server
 * answers with a session cookie (HttpOnly, SameSite=Strict). */
'use strict';
document.getElementById('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const err = document.getElementById('login-error');
  err.textContent = '';
  const body = JSON.stringify({
    name: document.getElementById('name').value,
    password: document.getElementById('password').value,
  });
  try {
    const r = await fetch('/api/login', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' }, body,
    });
    const j = await r.json().catch(() => ({}));
    if (!r.ok) {
      err.textContent = j.error || ('login failed (' + r.status + ')');
      return;
    }
    document.getElementById('password').value = '';
    location.href = '/';
  } catch (e) {
    err.textContent = 'the server cannot be reached';
  }
});
