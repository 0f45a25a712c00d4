// The HTML report's one script (render/html.py inlines it). The page works without it: it
// only reveals and runs the filter box of the questions table.
var filter = document.getElementById('filter');
filter.hidden = false;
filter.addEventListener('input', function (event) {
  var needle = event.target.value.toLowerCase();
  var rows = document.querySelectorAll('#questions tbody tr');
  var shown = 0;
  rows.forEach(function (row) {
    var match = row.textContent.toLowerCase().indexOf(needle) !== -1;
    row.style.display = match ? '' : 'none';
    if (match) { shown += 1; }
  });
  document.getElementById('shown').textContent = shown + ' of ' + rows.length;
});
document.body.setAttribute('data-ready', 'yes');
