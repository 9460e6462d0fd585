// Card payment with Stripe Elements on the escrow payment page (no inline script: the CSP forbids it).
(function () {
  var box = document.getElementById('card-payment');
  if (!box || !box.dataset.key || typeof Stripe === 'undefined') { return; }
  var stripe = Stripe(box.dataset.key), card = stripe.elements().create('card');
  card.mount('#card-element');
  document.getElementById('card-pay').addEventListener('click', function () {
    stripe.confirmCardPayment(box.dataset.clientSecret, {payment_method: {card: card}})
      .then(function (r) {
        document.getElementById('card-message').textContent = r.error ? r.error.message : box.dataset.paidMessage;
      });
  });
})();
