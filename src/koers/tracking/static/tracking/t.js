/* Koers first-party tracking. Before consent nothing identifying is stored or sent. */
(() => {
  'use strict';
  const w = window, d = document, VID = 'koers_vid', IDK = 'koers_id';
  const prev = w.koers;
  if (prev && prev.loaded) return;
  const quiet = (fn) => { try { return fn(); } catch (e) { return null; } };
  const safe = (fn) => function (...a) { try { return fn.apply(this, a); } catch (e) { return null; } };

  safe(() => {
    const me = d.currentScript || d.querySelector('script[data-site]');
    const SITE = me && me.getAttribute('data-site');
    if (!SITE) return;
    const BASE = new URL(me.src, location.href).origin;
    const ANON = me.getAttribute('data-anonymous') === '1';
    const rand = (n) => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(n))))
      .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const cut = (s, n) => String(s || '').slice(0, n);
    const cookie = (v, age) => {
      d.cookie = VID + '=' + v + '; path=/; max-age=' + age + '; SameSite=Lax' +
        (location.protocol === 'https:' ? '; Secure' : '');
    };

    // A stored id means the visitor consented earlier; withdrawing consent removes it.
    let vid = quiet(() => localStorage.getItem(VID)) ||
      ((d.cookie.match(/(?:^|;\s*)koers_vid=([^;]*)/) || [])[1]);
    if (!/^[A-Za-z0-9_-]{16,32}$/.test(vid || '')) vid = null;
    let consent = !!vid;

    // The identify token from an email click: taken out of the address bar at once,
    // kept (in this tab only) and sent only once the visitor has consented.
    let ident = null;
    const params = new URLSearchParams(location.search);
    if (params.has(IDK)) {
      ident = cut(params.get(IDK), 500);
      params.delete(IDK);
      const q = params.toString();
      quiet(() => history.replaceState(history.state, '', location.pathname + (q ? '?' + q : '') + location.hash));
    }
    const keepIdent = () => {
      if (ident) quiet(() => sessionStorage.setItem(IDK, ident));
      else ident = quiet(() => sessionStorage.getItem(IDK));
    };
    if (consent) keepIdent();

    const post = (events) => {
      const body = { s: SITE };
      if (consent && vid) {
        body.v = vid;
        if (ident) {
          body.i = ident;
          ident = null;
          quiet(() => sessionStorage.removeItem(IDK));
        }
      }
      body.e = events;
      const json = JSON.stringify(body), url = BASE + '/t/e';
      if (!quiet(() => navigator.sendBeacon(url, new Blob([json], { type: 'text/plain' })))) {
        quiet(() => fetch(url, {
          method: 'POST', body: json, keepalive: true, mode: 'no-cors', credentials: 'omit',
          headers: { 'Content-Type': 'text/plain' },
        }).catch(() => null));
      }
    };

    // One page view: its id, whether it was sent (0 no, 1 anonymously, 2 with the id),
    // and the engaged time counted for it.
    let page, pageRef, sent, ms, sentSeconds, lastTick, activeAt, started = false;
    let visible = d.visibilityState === 'visible';
    const newPage = (ref) => {
      page = rand(12);
      pageRef = ref;
      sent = ms = sentSeconds = 0;
      lastTick = activeAt = Date.now(); // the first 30 s after a page loads count as active
    };
    const tick = () => {
      const now = Date.now();
      if (visible && now - activeAt < 30000) ms += Math.min(now - lastTick, 5000);
      lastTick = now;
    };
    const pageView = () => {
      if (!started) return;
      const known = consent && vid;
      if (known ? sent === 2 : sent || !ANON) return;
      sent = known ? 2 : 1;
      post([{ k: 'page_view', u: cut(location.href, 2000), t: cut(d.title, 300), r: /^https?:/.test(pageRef) ? cut(pageRef, 2000) : '', p: page }]);
    };
    const flush = () => {
      tick();
      const s = Math.floor(ms / 1000);
      // Engaged time belongs to a person, so it waits for consent like they do.
      if (sent !== 2 || !consent || !s || s === sentSeconds) return;
      sentSeconds = s;
      post([{ k: 'engage', p: page, d: s }]);
    };

    const setConsent = (yes) => {
      if (yes) {
        vid = vid || rand(16);
        consent = true;
        quiet(() => localStorage.setItem(VID, vid));
        cookie(vid, 31536000);
        keepIdent();
        pageView();
      } else {
        consent = false;
        vid = ident = null;
        quiet(() => localStorage.removeItem(VID));
        quiet(() => sessionStorage.removeItem(IDK));
        cookie('', 0);
      }
    };

    // Koers lead forms.
    let formCount = 0;
    const FAILED = { nl: 'Versturen is niet gelukt. Probeer het later opnieuw.', en: 'Sending failed. Please try again later.' };
    const AUTO = { first_name: 'given-name', last_name: 'family-name', email: 'email', phone: 'tel', company: 'organization' };
    const h = (tag, attrs, ...kids) => {
      const el = d.createElement(tag);
      Object.keys(attrs).forEach((k) => {
        if (attrs[k] != null && attrs[k] !== false) el.setAttribute(k, attrs[k] === true ? '' : attrs[k]);
      });
      kids.forEach((kid) => kid != null && el.append(kid));
      return el;
    };
    // A plain default layout; :where() has no specificity, so any site style wins.
    const CSS = ':where(.koers-form .koers-field){margin:0 0 .8em}:where(.koers-form label){display:block;margin:0 0 .2em}' +
      ':where(.koers-form .koers-input){box-sizing:border-box;width:100%;max-width:32em;padding:.4em;font:inherit}' +
      ':where(.koers-error:not(:empty)){color:#b42318;margin:.2em 0}';
    const leadForm = async (box) => {
      if (box.hasAttribute('data-koers-ready')) return;
      box.setAttribute('data-koers-ready', '');
      if (!d.getElementById('koers-style')) d.head.append(h('style', { id: 'koers-style' }, CSS));
      const url = BASE + '/t/f/' + encodeURIComponent(box.getAttribute('data-koers-form'));
      const lang = (box.getAttribute('data-lang') || d.documentElement.lang || '').slice(0, 2).toLowerCase();
      const res = await fetch(url + (lang ? '?lang=' + encodeURIComponent(lang) : ''), { mode: 'cors', credentials: 'omit' });
      if (!res.ok) return;
      const spec = await res.json(), fields = spec.fields || [], errors = {};
      const id = 'koers-' + ++formCount + '-';
      const form = h('form', { class: 'koers-form', 'data-koers': '' });
      if (spec.title) form.append(h('h2', { class: 'koers-title' }, spec.title));
      fields.forEach((f) => {
        const fid = id + f.name, area = f.type === 'textarea';
        errors[f.name] = h('div', { id: fid + '-error', class: 'koers-error', 'aria-live': 'polite' });
        form.append(h('div', { class: 'koers-field koers-field-' + f.name },
          h('label', { for: fid, class: 'koers-label' }, f.label,
            f.required ? h('span', { class: 'koers-required', 'aria-hidden': 'true' }, ' *') : null),
          h(area ? 'textarea' : 'input', {
            id: fid, name: f.name, class: 'koers-input', type: area ? null : f.type || 'text',
            rows: area ? 4 : null, required: !!f.required, maxlength: f.max || null,
            autocomplete: AUTO[f.name] || null, 'aria-describedby': fid + '-error',
          }),
          errors[f.name]));
      });
      // A field people never see; bots fill it in.
      form.append(h('div', { class: 'koers-hp', 'aria-hidden': 'true', style: 'position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden' },
        h('input', { name: 'website', type: 'text', tabindex: '-1', autocomplete: 'off', 'aria-hidden': 'true' })));
      const general = errors.__all__ = h('div', { class: 'koers-error koers-form-error', 'aria-live': 'polite' });
      const button = h('button', { type: 'submit', class: 'koers-submit' }, spec.submit || 'Send');
      form.append(general, button);
      if (spec.consent) form.append(h('p', { class: 'koers-consent' }, spec.consent));
      box.append(form);

      form.addEventListener('submit', async (ev) => {
        try {
          ev.preventDefault();
          Object.keys(errors).forEach((k) => { errors[k].textContent = ''; });
          form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
          button.disabled = true;
          const values = {};
          fields.forEach((f) => { values[f.name] = form.elements.namedItem(f.name).value; });
          const r = await fetch(url, {
            method: 'POST', mode: 'cors', credentials: 'omit', headers: { 'Content-Type': 'text/plain' },
            body: JSON.stringify({
              token: spec.token, s: SITE, v: (consent && vid) || null, u: cut(location.href, 2000),
              website: form.elements.namedItem('website').value, fields: values,
            }),
          });
          const data = await r.json().catch(() => ({}));
          if (r.ok && data.ok) {
            const thanks = h('div', { class: 'koers-thanks', role: 'status', tabindex: '-1' }, data.thanks || '');
            form.replaceWith(thanks);
            thanks.focus();
            return;
          }
          if (r.status === 400 && data.errors) {
            let first = null;
            Object.keys(data.errors).forEach((k) => {
              const input = errors[k] && k !== '__all__' ? form.elements.namedItem(k) : null;
              (input ? errors[k] : general).textContent = data.errors[k];
              if (input) { input.setAttribute('aria-invalid', 'true'); first = first || input; }
            });
            if (first) first.focus();
          } else general.textContent = FAILED[lang] || FAILED.en;
        } catch (e) {
          general.textContent = FAILED[lang] || FAILED.en;
        }
        button.disabled = false;
      });
    };
    const renderForms = () => d.querySelectorAll('[data-koers-form]').forEach((box) => leadForm(box).catch(() => null));

    // The public function; calls queued before the script loaded run first.
    const api = safe((cmd, arg) => {
      if (cmd === 'consent') setConsent(arg === true || arg === 1 || arg === '1' || arg === 'true');
    });
    api.loaded = true;
    w.koers = api;
    newPage(d.referrer);
    ((prev && prev.q) || []).forEach((args) => api(...args));
    started = true;
    pageView();

    const on = (target, type, fn, opts) => target.addEventListener(type, safe(fn), opts);
    setInterval(safe(tick), 1000);
    ['mousemove', 'keydown', 'scroll', 'touchstart'].forEach((type) =>
      on(w, type, () => { activeAt = Date.now(); }, { capture: true, passive: true }));
    on(d, 'visibilitychange', () => {
      tick();
      visible = d.visibilityState === 'visible';
      if (!visible) flush();
    });
    on(w, 'pagehide', flush);
    on(w, 'pageshow', (ev) => { if (ev.persisted) { newPage(pageRef); pageView(); } });

    // Single-page apps: a new URL is a new page view.
    let href = location.href;
    const route = () => {
      const old = href;
      href = location.href;
      if (old.split('#')[0] === href.split('#')[0]) return;
      flush();
      newPage(old);
      pageView();
      renderForms();
    };
    const push = history.pushState;
    history.pushState = function (...a) {
      const result = push.apply(this, a);
      safe(route)();
      return result;
    };
    on(w, 'popstate', route);

    on(d, 'click', (ev) => {
      const a = ev.target.closest && ev.target.closest('a[href]');
      if (!a || !consent || !vid) return;
      const link = new URL(a.getAttribute('href'), d.baseURI);
      if (/^https?:$/.test(link.protocol) && /\.(pdf|docx?|xlsx?|pptx?|zip|csv|txt|rtf|odt)$/i.test(link.pathname)) {
        post([{ k: 'download', u: cut(location.href, 2000), h: cut(link.href, 2000) }]);
      }
    }, true);
    on(d, 'submit', (ev) => {
      const f = ev.target;
      if (!consent || !vid || !f || f.hasAttribute('data-koers')) return;
      post([{ k: 'form_submit', u: cut(location.href, 2000), f: cut(f.getAttribute('id') || f.getAttribute('name') || '', 100) }]);
    }, true);

    if (d.readyState === 'loading') on(d, 'DOMContentLoaded', renderForms);
    else renderForms();
  })();
})();
