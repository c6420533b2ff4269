/* account.html (authenticated) — GET/PATCH/DELETE /me, change password and email, log out */
(function () {
  'use strict';
  var ER = window.ER;

  ER.onReady(function () {
    var box = document.getElementById('newsletter_opt_in');
    var status = document.getElementById('newsletter-status');
    var details = document.getElementById('account-details');
    var logoutBtn = document.getElementById('logout');
    var deleteBtn = document.getElementById('delete-account');
    var saved = false;

    function fill(me) {
      document.getElementById('account-id_number').textContent = me.id_number ? String(me.id_number) : '—';
      document.getElementById('account-candidate_name').textContent = me.candidate_name ? String(me.candidate_name) : '—';
      document.getElementById('account-email').textContent = me.email ? String(me.email) : '—';
      saved = me.newsletter_opt_in === true;
      box.checked = saved;
    }

    ER.api('GET', '/me').then(function (res) {
      details.setAttribute('aria-busy', 'false');
      if (res.status === 200 && res.body) {
        fill(res.body);
        box.disabled = false;
        return;
      }
      ER.showError(res);
    });

    box.addEventListener('change', function () {
      var wanted = box.checked;
      box.disabled = true;
      status.textContent = ER.t('account.newsletter.saving');
      ER.clearFieldErrors();
      ER.api('PATCH', '/me', { newsletter_opt_in: wanted }).then(function (res) {
        box.disabled = false;
        if (res.status === 200) {
          if (res.body && typeof res.body === 'object' && 'newsletter_opt_in' in res.body) { fill(res.body); } else { saved = wanted; }
          status.textContent = ER.t(saved ? 'account.newsletter.saved_on' : 'account.newsletter.saved_off');
          return;
        }
        box.checked = saved;
        status.textContent = ER.t('account.newsletter.not_saved');
        ER.showError(res);
      });
    });
    // The form has no submit button; never let Enter submit it natively.
    document.getElementById('newsletter-form').addEventListener('submit', function (ev) { ev.preventDefault(); });

    /* A wrong password is refused like a wrong login (and counted on the same lockout). */
    function passwordRefused(res, field) {
      var code = res.body && res.body.code;
      if (res.status === 401 && code === 'invalid_credentials') {
        ER.showFieldErrors({ message: ER.t('account.password.wrong'), errors: [{ field: field, message: ER.t('error.current_password.required') }] });
        return true;
      }
      if (res.status === 429 && code === 'locked') {
        ER.clearFieldErrors();
        ER.showAlert('error', ER.t('account.locked', { try_again: ER.tryAgainText(res.headers) }));
        return true;
      }
      return false;
    }

    /* 422 errors name the API's fields; on this page some inputs have ids of their own. */
    function renamed(body, ids) {
      var errors = body && Array.isArray(body.errors) ? body.errors : [];
      return {
        message: body && body.message,
        errors: errors.map(function (e) {
          var field = e && Object.prototype.hasOwnProperty.call(ids, e.field) ? ids[e.field] : e && e.field;
          return { field: field, message: e && e.message };
        })
      };
    }

    var passwordForm = document.getElementById('password-form');
    ER.onSubmit(passwordForm, function () {
      ER.clearAlert();
      ER.clearFieldErrors();
      if (!ER.checkRequired(passwordForm, {
        current_password: ER.t('error.current_password.required'),
        password: ER.t('error.reset_password.required'),
        confirm_password: ER.t('error.reset_confirm.required')
      })) { return; }
      var payload = {
        current_password: ER.value('current_password'),
        password: ER.value('password'),
        confirm_password: ER.value('confirm_password')
      };
      return ER.api('POST', '/me/password', payload, { redirectOn401: false }).then(function (res) {
        if (res.status === 204 || res.status === 200) {
          passwordForm.reset();
          ER.showAlert('success', ER.t('account.password.done'));
          return;
        }
        if (passwordRefused(res, 'current_password')) { return; }
        if (res.status === 401) { ER.goToLogin(ER.t('session.ended')); return; }
        ER.showError(res);
      });
    });

    var emailForm = document.getElementById('email-form');
    ER.onSubmit(emailForm, function () {
      ER.clearAlert();
      ER.clearFieldErrors();
      if (!ER.checkRequired(emailForm, {
        new_email: ER.t('error.new_email.required'),
        email_password: ER.t('error.password.required')
      })) { return; }
      var address = ER.trimmed('new_email');
      var payload = { email: address, password: ER.value('email_password') };
      return ER.api('POST', '/me/email', payload, { redirectOn401: false }).then(function (res) {
        if (res.status === 202 || res.status === 200) {
          emailForm.reset();
          ER.showAlert('success', ER.t('account.email.sent', { email: address }));
          return;
        }
        if (passwordRefused(res, 'email_password')) { return; }
        if (res.status === 401) { ER.goToLogin(ER.t('session.ended')); return; }
        // The API wrote these messages in the page's language: marked as its text.
        if (res.status === 422) { ER.showFieldErrors(renamed(res.body, { email: 'new_email', password: 'email_password' }), undefined, true); return; }
        ER.showError(res);
      });
    });

    logoutBtn.addEventListener('click', function () {
      logoutBtn.disabled = true;
      ER.logout();
    });

    deleteBtn.addEventListener('click', function () {
      var ok = window.confirm(ER.t('account.delete.confirm'));
      if (!ok) { return; }
      deleteBtn.disabled = true;
      ER.api('DELETE', '/me').then(function (res) {
        if (res.status === 204 || res.status === 200) {
          ER.clearSession();
          ER.setFlash('success', ER.t('account.delete.done'));
          window.location.assign('index.html');
          return;
        }
        deleteBtn.disabled = false;
        ER.showError(res);
      });
    });
  });
}());
