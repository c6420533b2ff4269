/* confirm.html?token=… — POST /registrations/confirmations, resend form on failure */
(function () {
  'use strict';
  var ER = window.ER;

  ER.onReady(function () {
    var token = ER.queryParam('token');
    ER.stripQuery(); // keep the one-time token out of history and referrers
    var status = document.getElementById('confirm-status');
    var success = document.getElementById('confirm-success');
    var resendSection = document.getElementById('resend-section');
    var resendForm = document.getElementById('resend-form');

    function showResend(text) {
      status.textContent = text;
      resendSection.hidden = false;
    }

    ER.onSubmit(resendForm, function () {
      ER.clearAlert();
      ER.clearFieldErrors();
      if (!ER.checkRequired(resendForm, { id_number: 'Enter your ID Number.' })) { return; }
      return ER.api('POST', '/registrations/confirmations/resend', { id_number: ER.trimmed('id_number') }).then(function (res) {
        if (res.status === 202 || res.status === 200) {
          ER.showAlert('info', 'If that ID Number is registered and its email address is not yet confirmed, we have sent a new confirmation email. Check your inbox and spam folder. The link works for 24 hours.');
          return;
        }
        ER.showError(res);
      });
    });

    if (!token) {
      showResend('To confirm your email address, open the link in the email we sent you. If you cannot find it, or it has expired, ask for a new one below.');
      return;
    }

    ER.api('POST', '/registrations/confirmations', { token: token }).then(function (res) {
      if (res.status === 200 || res.status === 204) {
        status.textContent = 'Thank you. Your email address is confirmed.';
        success.hidden = false;
        ER.showAlert('success', 'Your email address is confirmed. You can now log in.');
        return;
      }
      if (res.status === 400 || res.status === 422 || res.status === 404) {
        showResend('This confirmation link is not valid. It may have expired (links work for 24 hours), already been used, or been copied incompletely.');
        ER.showAlert('error', 'This confirmation link is invalid or has expired. If you have already confirmed your email address, you can log in. Otherwise ask for a new link below.');
        return;
      }
      showResend('We could not confirm your email address just now.');
      ER.showError(res);
    });
  });
}());
