/*
 * Exam Results — shared browser module for the candidate pages.
 * Plain JavaScript, no dependencies, no build step.
 *
 * Load order on every page: config.js, app.js, then the page script (js/<page>.js).
 *
 * Exposes window.ER (and window.api as a shortcut for ER.api).
 *
 * Rules kept here:
 *  - API text is only ever written with textContent (never innerHTML).
 *  - Tokens and passwords are never written to the console.
 */
(function (window, document) {
  'use strict';

  var TOKEN_KEY = 'er_token';          // the bearer token (plain string)
  var EXPIRES_KEY = 'er_expires_at';   // ISO 8601 instant the token expires
  var FLASH_KEY = 'er_flash';          // one-shot message shown on the next page
  var REQUEST_TIMEOUT_MS = 20000;

  var LANG_KEY = 'er_lang';            // the language the candidate chose (localStorage)

  var SKILL_ORDER = ['reading', 'use_of_english', 'writing', 'listening', 'speaking'];

  /* --------------------------------------------------------------- languages */

  /* locales/languages.json lists the languages ({code: {name, locale}}); locales/<code>.json is
     that language's catalogue ({key: text}). Text takes {name} placeholders; in the pages,
     {0}, {1}… stand for the element's own child elements, in order. */
  var languages = { en: { name: 'English', locale: 'en-GB' } };
  var lang = 'en';
  var catalogue = {};

  function localGet(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }
  function localSet(key, v) {
    try { window.localStorage.setItem(key, v); } catch (e) { /* storage unavailable */ }
  }

  /** The stored choice, else the first browser language we have, else English. */
  function chooseLanguage() {
    var stored = localGet(LANG_KEY);
    if (stored && Object.prototype.hasOwnProperty.call(languages, stored)) { return stored; }
    var wanted = (window.navigator.languages && window.navigator.languages.length)
      ? window.navigator.languages : [window.navigator.language || ''];
    for (var i = 0; i < wanted.length; i++) {
      var code = String(wanted[i] || '').toLowerCase().split('-')[0];
      if (Object.prototype.hasOwnProperty.call(languages, code)) { return code; }
    }
    return 'en';
  }

  function getJSON(url) {
    return window.fetch(url, { credentials: 'same-origin', cache: 'no-cache' }).then(function (res) {
      if (!res.ok) { throw new Error(url + ': ' + res.status); }
      return res.json();
    });
  }

  function loadLanguage() {
    return getJSON('locales/languages.json').then(function (list) {
      if (list && typeof list === 'object' && list.en) { languages = list; }
    }, function () { /* keep English */ }).then(function () {
      lang = chooseLanguage();
      return getJSON('locales/' + lang + '.json').catch(function () {
        lang = 'en';
        return getJSON('locales/en.json');
      });
    }).then(function (cat) { catalogue = cat || {}; }, function () { catalogue = {}; });
  }

  function locale() { return (languages[lang] && languages[lang].locale) || lang; }

  function fill(text, params) {
    return String(text).replace(/\{([A-Za-z0-9_]+)\}/g, function (m, name) {
      return (params && Object.prototype.hasOwnProperty.call(params, name)) ? String(params[name]) : m;
    });
  }

  /** The current language's text for key, placeholders filled with params (strings). */
  function t(key, params) {
    var text = Object.prototype.hasOwnProperty.call(catalogue, key) ? catalogue[key] : key;
    return fill(text, params);
  }

  /** Like t, but params may be nodes: returns [text, node, text…] for el()/appendAll. */
  function tNodes(key, params) {
    var text = Object.prototype.hasOwnProperty.call(catalogue, key) ? catalogue[key] : key;
    var out = [];
    String(text).split(/(\{[A-Za-z0-9_]+\})/).forEach(function (part) {
      var m = /^\{([A-Za-z0-9_]+)\}$/.exec(part);
      if (m && params && Object.prototype.hasOwnProperty.call(params, m[1])) {
        var v = params[m[1]];
        out.push(v !== null && typeof v === 'object' && v.nodeType ? v : String(v));
      } else if (part) {
        out.push(part);
      }
    });
    return out;
  }

  /** Translate data-i18n (content) and data-i18n-attr ("attr=key;attr=key") under root. */
  function applyTranslations(root) {
    Array.prototype.forEach.call(root.querySelectorAll('[data-i18n]'), function (node) {
      // The element's own child elements (links, <strong>…) fill {0}, {1}… in document order.
      if (!node.i18nKids) { node.i18nKids = Array.prototype.slice.call(node.children); }
      var kids = {};
      node.i18nKids.forEach(function (k, i) { kids[String(i)] = k; });
      var parts = tNodes(node.getAttribute('data-i18n'), kids);
      clear(node);
      appendAll(node, parts);
    });
    Array.prototype.forEach.call(root.querySelectorAll('[data-i18n-attr]'), function (node) {
      node.getAttribute('data-i18n-attr').split(';').forEach(function (pair) {
        var kv = pair.split('=');
        if (kv.length === 2 && kv[0].trim()) { node.setAttribute(kv[0].trim(), t(kv[1].trim())); }
      });
    });
  }

  /** The language switch: one button per language, in the header of every page. */
  function buildLanguageSwitch() {
    // Made here, after the site title, so every page (a new one included) has it with no markup.
    var holder = document.getElementById('language-switch');
    if (!holder) {
      var header = document.querySelector('.site-header__inner');
      if (!header) { return; }
      holder = el('div', { id: 'language-switch', 'class': 'language-switch' });
      var title = header.querySelector('.site-title');
      header.insertBefore(holder, title ? title.nextSibling : header.firstChild);
    }
    clear(holder);
    holder.setAttribute('role', 'group');
    holder.setAttribute('aria-label', t('language.switch'));
    Object.keys(languages).forEach(function (code) {
      var b = el('button', {
        type: 'button', 'class': 'language-switch__option', lang: code,
        'aria-pressed': code === lang ? 'true' : 'false', 'data-language': code,
        text: languages[code].name || code
      });
      b.addEventListener('click', function () { switchLanguage(code); });
      holder.appendChild(b);
    });
  }

  /** Remember the choice; a logged-in candidate's account follows it (emails are in that language). */
  function switchLanguage(code) {
    if (!Object.prototype.hasOwnProperty.call(languages, code)) { return Promise.resolve(); }
    localSet(LANG_KEY, code);
    var saved = isLoggedIn()
      ? api('PATCH', '/me', { language: code }, { redirectOn401: false }).then(function () {}, function () {})
      : Promise.resolve();
    return saved.then(function () { window.location.reload(); });
  }

  /* ------------------------------------------------------------------ storage */

  function storageGet(key) {
    try { return window.sessionStorage.getItem(key); } catch (e) { return null; }
  }
  function storageSet(key, value) {
    try { window.sessionStorage.setItem(key, value); } catch (e) { /* storage unavailable */ }
  }
  function storageRemove(key) {
    try { window.sessionStorage.removeItem(key); } catch (e) { /* storage unavailable */ }
  }

  /** Returns {token, expires_at} or null when there is no unexpired session. */
  function getSession() {
    var raw = storageGet(TOKEN_KEY);
    if (!raw) { return null; }
    var token = raw;
    var expiresAt = storageGet(EXPIRES_KEY);
    // Also accept a JSON value {token, expires_at} stored under er_token.
    if (raw.charAt(0) === '{') {
      try {
        var parsed = JSON.parse(raw);
        token = parsed && typeof parsed.token === 'string' ? parsed.token : null;
        expiresAt = (parsed && parsed.expires_at) || expiresAt;
      } catch (e) { token = null; }
    }
    if (!token) { clearSession(); return null; }
    if (expiresAt) {
      var t = Date.parse(expiresAt);
      if (!isNaN(t) && t <= Date.now()) { clearSession(); return null; }
    }
    return { token: token, expires_at: expiresAt || null };
  }

  function setSession(token, expiresAt) {
    storageSet(TOKEN_KEY, String(token));
    if (expiresAt) { storageSet(EXPIRES_KEY, String(expiresAt)); } else { storageRemove(EXPIRES_KEY); }
  }

  function clearSession() {
    storageRemove(TOKEN_KEY);
    storageRemove(EXPIRES_KEY);
  }

  function isLoggedIn() { return getSession() !== null; }

  /** Store a message to show in #alert on the next page loaded. */
  function setFlash(type, text) {
    storageSet(FLASH_KEY, JSON.stringify({ type: type, text: String(text) }));
  }
  function takeFlash() {
    var raw = storageGet(FLASH_KEY);
    if (!raw) { return null; }
    storageRemove(FLASH_KEY);
    try {
      var f = JSON.parse(raw);
      return f && typeof f.text === 'string' ? f : null;
    } catch (e) { return null; }
  }

  /* ---------------------------------------------------------------- pages/URLs */

  function currentPage() {
    var path = window.location.pathname;
    var name = path.substring(path.lastIndexOf('/') + 1);
    return name || 'index.html';
  }

  function requiresAuth() {
    return document.body && document.body.getAttribute('data-auth-required') === 'true';
  }

  /** Only plain page names of this site are accepted as a post-login destination. */
  function safeNext(value) {
    if (typeof value === 'string' && /^[a-z][a-z0-9-]*\.html$/.test(value) && value !== 'login.html') {
      return value;
    }
    return null;
  }

  function goToLogin(message) {
    clearSession();
    if (message) { setFlash('info', message); }
    var next = safeNext(currentPage());
    window.location.replace('login.html' + (next ? '?next=' + encodeURIComponent(next) : ''));
  }

  // The address as loaded: a one-time token leaves the address bar at once (below), before the
  // catalogue has loaded and the page script reads it.
  var initialSearch = window.location.search;

  /** Read a query parameter of the address the page was loaded with, e.g. ?token=… */
  function queryParam(name) {
    try { return new URLSearchParams(initialSearch).get(name); } catch (e) { return null; }
  }

  /** Remove the query string (e.g. a one-time token) from the address bar and history. */
  function stripQuery() {
    try {
      if (window.location.search && window.history && window.history.replaceState) {
        window.history.replaceState(null, '', window.location.pathname + window.location.hash);
      }
    } catch (e) { /* ignore */ }
  }

  /* ----------------------------------------------------------------------- API */

  function apiBase() {
    var cfg = window.APP_CONFIG || {};
    var base = typeof cfg.apiBase === 'string' ? cfg.apiBase : '/api';
    return base.replace(/\/+$/, '');
  }

  /**
   * Call the API. Resolves (never rejects) to {status, body, headers}.
   * status 0 means the service could not be reached.
   * On pages marked data-auth-required="true", a 401 sends the candidate to the login page.
   * opts.auth === false: never send the Authorization header.
   */
  function api(method, path, body, opts) {
    opts = opts || {};
    var headers = { 'Accept': 'application/json', 'Accept-Language': lang };
    var init = { method: method, headers: headers, credentials: 'same-origin', cache: 'no-store' };
    if (body !== undefined && body !== null) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    var session = opts.auth === false ? null : getSession();
    if (session) { headers['Authorization'] = 'Bearer ' + session.token; }

    var controller = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = null;
    if (controller) {
      init.signal = controller.signal;
      timer = window.setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS);
    }

    return window.fetch(apiBase() + path, init).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        if (text) {
          try { data = JSON.parse(text); } catch (e) { data = null; }
        }
        return { status: res.status, body: data, headers: res.headers };
      });
    }, function () {
      return {
        status: 0,
        body: { code: 'network_error', message: t('error.network') },
        headers: new Headers()
      };
    }).then(function (result) {
      if (timer) { window.clearTimeout(timer); }
      if (result.status === 401 && requiresAuth() && opts.redirectOn401 !== false) {
        goToLogin(t('session.ended'));
        // Keep the page from acting on the answer while the browser navigates away.
        return new Promise(function () {});
      }
      return result;
    });
  }

  /** Seconds from a Retry-After header (delta-seconds or HTTP date), or null. */
  function retryAfterSeconds(headers) {
    var v = headers && typeof headers.get === 'function' ? headers.get('Retry-After') : null;
    if (!v) { return null; }
    v = String(v).trim();
    if (/^\d+$/.test(v)) { return parseInt(v, 10); }
    var t = Date.parse(v);
    if (!isNaN(t)) { return Math.max(0, Math.round((t - Date.now()) / 1000)); }
    return null;
  }

  /** Whole minutes (rounded up, at least 1) from a Retry-After header, or null. */
  function retryAfterMinutes(headers) {
    var s = retryAfterSeconds(headers);
    if (s === null) { return null; }
    return Math.max(1, Math.ceil(s / 60));
  }

  function minutesText(n) {
    var form = 'other';
    try { form = new Intl.PluralRules(locale()).select(n) === 'one' ? 'one' : 'other'; } catch (e) { /* other */ }
    return t('time.minutes.' + form, { n: n });
  }

  /** "Try again in N minutes." or "Try again later." */
  function tryAgainText(headers) {
    var m = retryAfterMinutes(headers);
    return m === null ? t('error.try_later') : t('error.try_again_in', { minutes: minutesText(m) });
  }

  /* ------------------------------------------------------------------- DOM bits */

  /** Create an element. attrs: plain attributes (plus "text"); children: strings or nodes. */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) { return; }
        if (k === 'text') { node.textContent = String(v); } else { node.setAttribute(k, v === true ? '' : String(v)); }
      });
    }
    appendAll(node, children);
    return node;
  }

  function appendAll(node, children) {
    if (children === null || children === undefined) { return; }
    if (!Array.isArray(children)) { children = [children]; }
    children.forEach(function (c) {
      if (c === null || c === undefined || c === false) { return; }
      node.appendChild(typeof c === 'object' && c.nodeType ? c : document.createTextNode(String(c)));
    });
  }

  function clear(node) { while (node && node.firstChild) { node.removeChild(node.firstChild); } }

  function alertRegion() { return document.getElementById('alert'); }

  /**
   * Show a page-level message in #alert (role="alert").
   * type: "error" | "success" | "info"; content: string, node, or array of them.
   */
  function showAlert(type, content) {
    var region = alertRegion();
    if (!region) { return; }
    clear(region);
    region.className = 'alert alert--' + (type || 'info');
    var heading = t('alert.title.' + (type === 'error' ? 'error' : type === 'success' ? 'success' : 'info'));
    var wrapper = el('div', { 'class': 'alert__body' });
    if (type === 'error') { wrapper.appendChild(el('p', { 'class': 'alert__title', text: heading })); }
    var items = Array.isArray(content) ? content : [content];
    items.forEach(function (c) {
      if (c === null || c === undefined) { return; }
      wrapper.appendChild(typeof c === 'object' && c.nodeType ? c : el('p', { text: c }));
    });
    region.appendChild(wrapper);
    if (typeof region.scrollIntoView === 'function') {
      try { region.scrollIntoView({ block: 'nearest' }); } catch (e) { region.scrollIntoView(); }
    }
  }

  function clearAlert() {
    var region = alertRegion();
    if (!region) { return; }
    clear(region);
    region.className = 'alert';
  }

  /** Remove every field error shown on the page. */
  function clearFieldErrors() {
    Array.prototype.forEach.call(document.querySelectorAll('.field-error'), function (n) {
      n.textContent = '';
      n.removeAttribute('data-api-text');
    });
    Array.prototype.forEach.call(document.querySelectorAll('[aria-invalid="true"]'), function (n) {
      n.removeAttribute('aria-invalid');
      var f = n.closest('.field');
      if (f) { f.classList.remove('field--invalid'); }
    });
  }

  /** Make sure an input's aria-describedby lists its error element. */
  function linkErrorElement(input, errorId) {
    var ids = (input.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
    if (ids.indexOf(errorId) === -1) { ids.push(errorId); input.setAttribute('aria-describedby', ids.join(' ')); }
  }

  /** Show one error next to a field. Returns true when the field exists on the page. */
  function setFieldError(field, message, fromApi) {
    if (typeof field !== 'string' || !field) { return false; }
    var input = document.getElementById(field);
    var errEl = document.getElementById(field + '-error');
    if (!input || !errEl || !/^(INPUT|SELECT|TEXTAREA)$/.test(input.tagName)) { return false; }
    errEl.textContent = message ? String(message) : t('error.check_answer');
    if (fromApi && message) { errEl.setAttribute('data-api-text', ''); }
    input.setAttribute('aria-invalid', 'true');
    linkErrorElement(input, field + '-error');
    var f = input.closest('.field');
    if (f) { f.classList.add('field--invalid'); }
    return true;
  }

  /**
   * Render a 422 body {code, message, errors:[{field, message}]}: each error next to its
   * field (#<field>-error), plus a summary in #alert linking to the fields. Errors for
   * fields not on the page are listed in the summary. Focus moves to the first bad field.
   */
  function showFieldErrors(body, fallbackMessage, fromApi) {
    clearFieldErrors();
    // Text the API wrote (in the Accept-Language it was sent) is marked data-api-text.
    var apiAttrs = function (attrs) { if (fromApi) { attrs['data-api-text'] = ''; } return attrs; };
    var errors = body && Array.isArray(body.errors) ? body.errors : [];
    var list = el('ul', { 'class': 'alert__list' });
    var first = null;
    errors.forEach(function (e) {
      if (!e) { return; }
      var field = typeof e.field === 'string' ? e.field : null;
      var given = typeof e.message === 'string' && e.message;
      var msg = given ? e.message : t('error.check_answer');
      if (setFieldError(field, msg, fromApi && given)) {
        var input = document.getElementById(field);
        if (!first) { first = input; }
        var link = el('a', apiAttrs({ href: '#' + encodeURIComponent(field), text: msg }));
        link.addEventListener('click', function (ev) { ev.preventDefault(); input.focus(); });
        list.appendChild(el('li', null, link));
      } else {
        list.appendChild(el('li', apiAttrs({ text: msg })));
      }
    });
    var apiMessage = body && typeof body.message === 'string' && body.message;
    var message = apiMessage ? el('p', apiAttrs({ text: apiMessage })) : (fallbackMessage || t('error.some_answers'));
    showAlert('error', list.childNodes.length ? [message, list] : [message]);
    // The error summary takes the focus: a screen reader hears every problem, each a link to its field.
    var region = alertRegion();
    if (region && first) {
      region.setAttribute('tabindex', '-1');
      region.focus();
    } else if (first) { first.focus(); }
  }

  /**
   * Standard handling for a failed answer.
   * messages: {code: string | function(res) -> content} overrides, also keyed by status ("429").
   */
  function showError(res, messages) {
    messages = messages || {};
    var body = res.body || {};
    var code = typeof body.code === 'string' ? body.code : '';
    var custom = (code && Object.prototype.hasOwnProperty.call(messages, code)) ? messages[code]
      : (Object.prototype.hasOwnProperty.call(messages, String(res.status)) ? messages[String(res.status)] : undefined);
    if (custom !== undefined) {
      clearFieldErrors();
      showAlert('error', typeof custom === 'function' ? custom(res) : custom);
      return;
    }
    if (res.status === 422) { showFieldErrors(body, undefined, true); return; }
    clearFieldErrors();
    if (res.status === 0) { showAlert('error', body.message); return; }
    if (res.status === 429) {
      showAlert('error', t('error.too_many_attempts', { try_again: tryAgainText(res.headers) }));
      return;
    }
    if (res.status >= 500) {
      showAlert('error', t('error.server'));
      return;
    }
    showAlert('error', (typeof body.message === 'string' && body.message)
      ? el('p', { text: body.message, 'data-api-text': '' }) : t('error.status', { status: res.status }));
  }

  /** Client-side checks: required fields present, passwords matching. Returns true if OK. */
  function checkRequired(form, labels) {
    var errors = [];
    Array.prototype.forEach.call(form.querySelectorAll('[required]'), function (input) {
      var empty = input.type === 'checkbox' ? !input.checked : !String(input.value).trim();
      if (empty) {
        errors.push({ field: input.id, message: (labels && labels[input.id]) || t('error.required') });
      }
    });
    var pw = form.querySelector('#password');
    var cpw = form.querySelector('#confirm_password');
    if (pw && cpw && cpw.value && pw.value !== cpw.value) {
      errors.push({ field: 'confirm_password', message: t('error.passwords_differ') });
    }
    if (errors.length) {
      showFieldErrors({ message: t('error.some_answers'), errors: errors });
      return false;
    }
    return true;
  }

  /** Disable a form's submit buttons while a request is in flight. */
  function setBusy(form, busy) {
    if (!form) { return; }
    form.setAttribute('aria-busy', busy ? 'true' : 'false');
    Array.prototype.forEach.call(form.querySelectorAll('button, input[type=submit]'), function (b) {
      b.disabled = !!busy;
    });
  }

  /** Wire a form: prevent native submit, guard double submits, call handler(form). */
  function onSubmit(form, handler) {
    if (!form) { return; }
    var busy = false;
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (busy) { return; }
      busy = true;
      setBusy(form, true);
      Promise.resolve().then(function () { return handler(form); }).catch(function () {
        showAlert('error', t('error.unexpected'));
      }).then(function () {
        busy = false;
        setBusy(form, false);
      });
    });
  }

  function value(id) {
    var n = document.getElementById(id);
    return n ? n.value : '';
  }
  function trimmed(id) { return String(value(id)).trim(); }
  function checked(id) {
    var n = document.getElementById(id);
    return !!(n && n.checked);
  }

  /* --------------------------------------------------------------- formatting */

  function dateOnlyParts(s) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(s || ''));
    return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], 12)) : null;
  }

  /** "2018-08-24" → "24 August 2018" (calendar date, no time-zone shift). */
  function formatDate(s) {
    if (!s) { return '—'; }
    var d = dateOnlyParts(s);
    var tz = 'UTC';
    if (!d) {
      // An instant: show the UK calendar date.
      d = new Date(s);
      tz = 'Europe/London';
      if (isNaN(d.getTime())) { return String(s); }
    }
    try {
      return new Intl.DateTimeFormat(locale(), { day: 'numeric', month: 'long', year: 'numeric', timeZone: tz }).format(d);
    } catch (e) { return String(s); }
  }

  /** ISO instant → "Tuesday 28 August 2018, 09:00 BST" in the given zone (default: browser's). */
  function formatInstant(s, timeZone) {
    var d = new Date(s);
    if (!s || isNaN(d.getTime())) { return s ? String(s) : '—'; }
    var opts = {
      weekday: 'long', day: 'numeric', month: 'long', year: 'numeric',
      hour: '2-digit', minute: '2-digit', timeZoneName: 'short'
    };
    if (timeZone) { opts.timeZone = timeZone; }
    try {
      return new Intl.DateTimeFormat(locale(), opts).format(d);
    } catch (e) {
      return d.toISOString();
    }
  }

  function localTimeZoneName() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch (e) { return ''; }
  }

  /** use_of_english → "Use of English" (skill names are the catalogue's skill.<name>). */
  function humaniseSkill(key) {
    var k = String(key);
    if (Object.prototype.hasOwnProperty.call(catalogue, 'skill.' + k)) { return t('skill.' + k); }
    var small = { of: 1, and: 1, the: 1, in: 1, to: 1, a: 1 };
    return k.split(/[_\s-]+/).filter(Boolean).map(function (w, i) {
      w = w.toLowerCase();
      return (i > 0 && small[w]) ? w : w.charAt(0).toUpperCase() + w.slice(1);
    }).join(' ');
  }

  /** Skills {skill: score} (or [{skill, score}]) → [[skill, score]] in the usual exam order. */
  function orderedSkills(skills) {
    var pairs = [];
    if (Array.isArray(skills)) {
      skills.forEach(function (s) {
        if (s && typeof s === 'object') { pairs.push([String(s.skill || s.name || ''), s.score]); }
      });
    } else if (skills && typeof skills === 'object') {
      Object.keys(skills).forEach(function (k) { pairs.push([k, skills[k]]); });
    }
    pairs = pairs.filter(function (p) { return p[1] !== null && p[1] !== undefined && p[1] !== ''; });
    pairs.sort(function (a, b) {
      var ia = SKILL_ORDER.indexOf(a[0]); var ib = SKILL_ORDER.indexOf(b[0]);
      ia = ia === -1 ? 99 : ia; ib = ib === -1 ? 99 : ib;
      return ia - ib;
    });
    return pairs;
  }

  function formatFormat(f) {
    var v = String(f || '').toUpperCase();
    if (v === 'PB' || v === 'PAPER') { return t('format.pb'); }
    if (v === 'CB' || v === 'COMPUTER') { return t('format.cb'); }
    return f ? String(f) : '—';
  }

  function display(v) {
    return (v === null || v === undefined || v === '') ? '—' : String(v);
  }

  /**
   * A Statement of Results table (class "statement"):
   * one row per skill, then overall score, grade and CEFR level.
   * s: {overall_score, grade, cefr_level, skills}
   */
  function statementTable(s, captionText) {
    function value(v) { return el('td', { translate: 'no', text: display(v) }); }
    var table = el('table', { 'class': 'statement' });
    if (captionText) { table.appendChild(el('caption', { text: captionText })); }
    table.appendChild(el('thead', null, el('tr', null, [
      el('th', { scope: 'col', text: t('statement.component') }),
      el('th', { scope: 'col', text: t('statement.result') })
    ])));
    var tbody = el('tbody');
    orderedSkills(s.skills).forEach(function (p) {
      tbody.appendChild(el('tr', { 'class': 'statement__skill', 'data-skill': p[0] }, [
        el('th', { scope: 'row', text: humaniseSkill(p[0]) }),
        value(p[1])
      ]));
    });
    table.appendChild(tbody);
    var tfoot = el('tbody', { 'class': 'statement__overall' });
    tfoot.appendChild(el('tr', { 'data-row': 'overall_score' }, [
      el('th', { scope: 'row', text: t('statement.overall_score') }), value(s.overall_score)
    ]));
    tfoot.appendChild(el('tr', { 'data-row': 'grade' }, [
      el('th', { scope: 'row', text: t('statement.grade') }), value(s.grade)
    ]));
    tfoot.appendChild(el('tr', { 'data-row': 'cefr_level' }, [
      el('th', { scope: 'row', text: t('statement.cefr_level') }),
      (s.cefr_level === null || s.cefr_level === undefined || s.cefr_level === '') ? el('td', { text: t('statement.not_awarded') }) : value(s.cefr_level)
    ]));
    table.appendChild(tfoot);
    return el('div', { 'class': 'table-wrap' }, table);
  }

  /* ------------------------------------------------------------- nav, logout */

  function logout() {
    var done = function () {
      clearSession();
      setFlash('success', t('logout.done'));
      window.location.assign('index.html');
    };
    if (!isLoggedIn()) { done(); return Promise.resolve(); }
    // 204 or 401 (already ended): either way the session is over here.
    return api('DELETE', '/sessions/current', undefined, { redirectOn401: false }).then(done, done);
  }

  function initNav() {
    var loggedIn = isLoggedIn();
    Array.prototype.forEach.call(document.querySelectorAll('[data-show-when]'), function (n) {
      var want = n.getAttribute('data-show-when');
      n.hidden = (want === 'logged-in') ? !loggedIn : loggedIn;
    });
    var page = currentPage();
    Array.prototype.forEach.call(document.querySelectorAll('.site-nav a[href]'), function (a) {
      if (a.getAttribute('href') === page) { a.setAttribute('aria-current', 'page'); }
    });
    var navLogout = document.getElementById('nav-logout');
    if (navLogout) {
      navLogout.addEventListener('click', function () {
        navLogout.disabled = true;
        logout();
      });
    }
  }

  function init() {
    if (requiresAuth() && !isLoggedIn()) {
      goToLogin(t('session.required'));
      return false;
    }
    initNav();
    var flash = takeFlash();
    if (flash) { showAlert(flash.type, flash.text); }
    return true;
  }

  var ready = false;
  var readyCallbacks = [];
  /** Run fn after the shared set-up (fn is skipped when the page is redirecting to login). */
  function onReady(fn) {
    if (ready) { fn(); } else { readyCallbacks.push(fn); }
  }
  function boot() {
    loadLanguage().then(function () {
      document.documentElement.lang = lang;
      applyTranslations(document);
      buildLanguageSwitch();
    }).then(start, start).then(shown, shown);
  }
  function shown() {
    document.documentElement.classList.remove('i18n-loading');
    document.documentElement.setAttribute('data-i18n-ready', lang);
  }
  // Hidden until the catalogue is applied, so an Italian page never flashes English (style.css).
  document.documentElement.classList.add('i18n-loading');
  window.setTimeout(function () { document.documentElement.classList.remove('i18n-loading'); }, 5000);
  function start() {
    var ok = init();
    ready = true;
    if (!ok) { readyCallbacks = []; return; }
    var cbs = readyCallbacks; readyCallbacks = [];
    cbs.forEach(function (fn) { fn(); });
  }
  if (queryParam('token') !== null) { stripQuery(); }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', boot);
  } else {
    boot();
  }

  window.ER = {
    t: t,
    tNodes: tNodes,
    language: function () { return lang; },
    switchLanguage: switchLanguage,
    api: api,
    apiBase: apiBase,
    getSession: getSession,
    setSession: setSession,
    clearSession: clearSession,
    isLoggedIn: isLoggedIn,
    setFlash: setFlash,
    goToLogin: goToLogin,
    safeNext: safeNext,
    queryParam: queryParam,
    stripQuery: stripQuery,
    retryAfterSeconds: retryAfterSeconds,
    retryAfterMinutes: retryAfterMinutes,
    minutesText: minutesText,
    tryAgainText: tryAgainText,
    el: el,
    clear: clear,
    showAlert: showAlert,
    clearAlert: clearAlert,
    showFieldErrors: showFieldErrors,
    clearFieldErrors: clearFieldErrors,
    setFieldError: setFieldError,
    showError: showError,
    checkRequired: checkRequired,
    setBusy: setBusy,
    onSubmit: onSubmit,
    value: value,
    trimmed: trimmed,
    checked: checked,
    formatDate: formatDate,
    formatInstant: formatInstant,
    localTimeZoneName: localTimeZoneName,
    humaniseSkill: humaniseSkill,
    orderedSkills: orderedSkills,
    formatFormat: formatFormat,
    statementTable: statementTable,
    logout: logout,
    onReady: onReady
  };
  window.api = api;
}(window, document));
